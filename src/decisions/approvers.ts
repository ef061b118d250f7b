import type { Api } from "grammy";
import type { User } from "grammy/types";
import type { Tx } from "../db/client.ts";
import type { Actor } from "./actions.ts";
import { audit } from "./audit.ts";

export interface Approvers {
  /** Whether this Telegram user may approve, modify, silence and demote. */
  allowed(userId: number): Promise<boolean>;
}

/**
 * APPROVER_IDS, and — when APPROVER_ADMINS is on — the group's administrators, asked of Telegram
 * at most every few minutes (a demoted admin loses the right within that time).
 */
export function createApprovers(deps: { ids: readonly number[]; admins: boolean; api: Api; chatId: number; cacheMs?: number }): Approvers {
  const ids = new Set(deps.ids);
  let cached: { at: number; admins: Set<number> } | undefined;
  const cacheMs = deps.cacheMs ?? 5 * 60_000;
  return {
    async allowed(userId) {
      if (ids.has(userId)) return true;
      if (!deps.admins) return false;
      if (!cached || Date.now() - cached.at > cacheMs) {
        const admins = await deps.api.getChatAdministrators(deps.chatId);
        cached = { at: Date.now(), admins: new Set(admins.filter((a) => !a.user.is_bot).map((a) => a.user.id)) };
      }
      return cached.admins.has(userId);
    },
  };
}

/**
 * For what only approvers may do: the person as an actor when they are one. When not (or when
 * nobody is known), the refusal goes to the audit log and `tell` says so to them (a button answer
 * or a reply), and the answer is undefined.
 */
export async function asApprover(
  deps: { sql: Tx; approvers: Approvers },
  user: User | undefined,
  refusal: { target: string; detail?: Record<string, unknown>; tell: () => Promise<unknown> },
): Promise<Actor | undefined> {
  if (user && (await deps.approvers.allowed(user.id))) return { id: user.id, name: displayName(user) };
  await audit(deps.sql, {
    actorId: user?.id,
    actorName: user ? displayName(user) : undefined,
    action: "refused",
    target: refusal.target,
    ...(refusal.detail ? { detail: refusal.detail } : {}),
  });
  await refusal.tell();
  return undefined;
}

export function displayName(user: { first_name: string; last_name?: string; username?: string }): string {
  const name = [user.first_name, user.last_name].filter(Boolean).join(" ");
  return user.username ? `${name} (@${user.username})` : name;
}
