/**
 * Telegram-like flood control per chat: a sliding 60 s window (and optionally a 1 s one). A call
 * over the limit is refused with the whole seconds until the oldest counted call leaves its window.
 */
export interface RateLimitOptions {
  /** Writes per chat per minute; Telegram allows about 20 in a group. Defaults to 20. */
  perMinute?: number;
  perSecond?: number;
}

const MINUTE = 60_000;
const SECOND = 1_000;

export class FloodControl {
  private readonly hits = new Map<number, number[]>();
  private readonly perMinute: number;
  private readonly perSecond: number | undefined;

  constructor(options: RateLimitOptions) {
    this.perMinute = options.perMinute ?? 20;
    this.perSecond = options.perSecond;
  }

  /** 0 when the call may go ahead (and is counted), else the retry_after to answer with. */
  admit(chatId: number, now: number): number {
    const recent = (this.hits.get(chatId) ?? []).filter((t) => t > now - MINUTE);
    let waitMs = waitFor(recent, this.perMinute, MINUTE, now);
    if (this.perSecond !== undefined) waitMs = Math.max(waitMs, waitFor(recent, this.perSecond, SECOND, now));
    if (waitMs <= 0) recent.push(now);
    this.hits.set(chatId, recent);
    return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : 0;
  }

  reset(): void {
    this.hits.clear();
  }
}

function waitFor(times: number[], limit: number, windowMs: number, now: number): number {
  if (limit <= 0) return windowMs;
  const inWindow = times.filter((t) => t > now - windowMs);
  if (inWindow.length < limit) return 0;
  // A slot frees when enough of the oldest calls have aged out for one more to fit.
  const freeing = inWindow[inWindow.length - limit] as number;
  return freeing + windowMs - now;
}
