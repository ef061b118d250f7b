import type { Update } from "grammy/types";
import { ApiError } from "./api-error.ts";

// Telegram leaves these out unless a bot asks for them in allowed_updates.
const NOT_DELIVERED_BY_DEFAULT = new Set(["chat_member", "message_reaction", "message_reaction_count"]);

export function updateKind(update: Update): string | undefined {
  return Object.keys(update).find((key) => key !== "update_id");
}

interface Waiter {
  limit: number;
  resolve(updates: Update[]): void;
  reject(error: ApiError): void;
}

export interface PollRequest {
  offset: number | undefined;
  limit: number | undefined;
  timeoutSeconds: number;
  allowedUpdates: string[] | undefined;
  signal: AbortSignal;
}

/**
 * The bot's update queue with getUpdates semantics: `offset` confirms (drops) older updates,
 * a long poll waits until something arrives or the timeout ends, and, as on Telegram, a newer
 * getUpdates terminates an older one that is still waiting.
 */
export class UpdateQueue {
  private pending: Update[] = [];
  private nextId = 1;
  private allowed: string[] = [];
  private waiter: Waiter | undefined;
  private closed = false;

  allocateId(): number {
    return this.nextId++;
  }

  push(update: Omit<Update, "update_id"> & { update_id?: number }): number {
    const id = update.update_id ?? this.allocateId();
    if (id >= this.nextId) this.nextId = id + 1;
    this.pending.push({ ...update, update_id: id } as Update);
    this.pending.sort((a, b) => a.update_id - b.update_id);
    this.wake();
    return id;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  dropPending(): void {
    this.pending = [];
  }

  /** Ends a waiting long poll with an error, as Telegram does when setWebhook or another poll arrives. */
  terminateWaiting(error: ApiError): void {
    this.waiter?.reject(error);
  }

  async poll(request: PollRequest): Promise<Update[]> {
    if (this.waiter) {
      // A client that just aborted its poll (grammY's bot.stop) may still have its disconnect in
      // flight; a short grace keeps the 409 for a second poller that is really running.
      await new Promise((resolve) => setTimeout(resolve, 50));
      this.terminateWaiting(
        new ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"),
      );
    }
    this.confirm(request.offset);
    if (request.allowedUpdates !== undefined) this.allowed = request.allowedUpdates;
    const limit = Math.min(Math.max(request.limit ?? 100, 1), 100);

    const ready = this.available(limit);
    if (ready.length > 0 || request.timeoutSeconds <= 0 || this.closed || request.signal.aborted) return ready;

    return new Promise<Update[]>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        request.signal.removeEventListener("abort", onAbort);
        if (this.waiter === waiter) this.waiter = undefined;
      };
      const waiter: Waiter = {
        limit,
        resolve: (updates) => {
          finish();
          resolve(updates);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      };
      // The client went away: nobody is listening, so the poll simply ends.
      const onAbort = (): void => waiter.resolve([]);
      const timer = setTimeout(() => waiter.resolve(this.available(limit)), request.timeoutSeconds * 1000);
      request.signal.addEventListener("abort", onAbort);
      this.waiter = waiter;
    });
  }

  /** Answers a waiting poll with an empty list and makes later polls return at once. */
  close(): void {
    this.closed = true;
    this.waiter?.resolve([]);
  }

  reset(): void {
    this.waiter?.resolve([]);
    this.pending = [];
    this.allowed = [];
  }

  private confirm(offset: number | undefined): void {
    if (offset === undefined || offset === 0) return;
    if (offset < 0) {
      this.pending = this.pending.slice(Math.max(this.pending.length + offset, 0));
      return;
    }
    this.pending = this.pending.filter((update) => update.update_id >= offset);
  }

  private available(limit: number): Update[] {
    return this.pending
      .filter((update) => {
        const kind = updateKind(update);
        if (kind === undefined) return false;
        return this.allowed.length > 0 ? this.allowed.includes(kind) : !NOT_DELIVERED_BY_DEFAULT.has(kind);
      })
      .slice(0, limit);
  }

  private wake(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const ready = this.available(waiter.limit);
    if (ready.length > 0) waiter.resolve(ready);
  }
}
