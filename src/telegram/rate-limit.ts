import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { sleep } from "../util/sleep.ts";

/**
 * One rate limit per chat, shared by every replica through Redis: at most `perMinute` calls in any
 * sliding 60 s window and at least `minIntervalMs` between two calls. A sliding log (not a fixed
 * window or a token bucket) because Telegram counts any 60 s, and a bucket that refills would let
 * twice the limit through around a window edge. Redis's clock decides, so replicas agree.
 */
const ACQUIRE = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local min_interval = tonumber(ARGV[3])
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then return blocked - now end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
if min_interval > 0 and count > 0 then
  local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  local wait = tonumber(newest[2]) + min_interval - now
  if wait > 0 then return wait end
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
`;

/** Telegram said "retry after N": nobody sends to that chat until then. Never shortens a block. */
const BLOCK = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]))
end
return until_ms
`;

/** Added to the 60 s window; see `marginMs`. */
export const RATE_WINDOW_MARGIN_MS = 250;

export interface ChatRateLimitOptions {
  perMinute: number;
  minIntervalMs: number;
  /** Key prefix, so test runs and deployments sharing a Redis do not share a budget. */
  prefix: string;
  /**
   * Added to the 60 s window: the limiter grants by Redis's clock, Telegram counts on arrival, and
   * a few milliseconds of jitter must not turn 20 calls into 21 in Telegram's eyes.
   */
  marginMs?: number;
}

export interface ChatRateLimiter {
  /** Takes a slot if one is free now; otherwise says how many ms until one may be. */
  tryAcquire(chatId: number): Promise<number>;
  /** Waits for a slot. Rejects if the signal aborts. */
  acquire(chatId: number, signal?: AbortSignal): Promise<void>;
  /** Blocks the chat for everyone (Telegram answered 429 with retry_after). */
  block(chatId: number, ms: number): Promise<void>;
  /** Calls counted in the current window, for metrics and tests. */
  used(chatId: number): Promise<number>;
}

type LimiterRedis = Redis & {
  topicopsAcquire(keys0: string, keys1: string, limit: number, windowMs: number, minInterval: number, id: string): Promise<number>;
  topicopsBlock(key: string, ms: number): Promise<number>;
};

export function createChatRateLimiter(redis: Redis, options: ChatRateLimitOptions): ChatRateLimiter {
  const r = redis as LimiterRedis;
  if (typeof r.topicopsAcquire !== "function") {
    redis.defineCommand("topicopsAcquire", { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand("topicopsBlock", { numberOfKeys: 1, lua: BLOCK });
  }
  const windowMs = 60_000 + (options.marginMs ?? RATE_WINDOW_MARGIN_MS);
  const logKey = (chatId: number) => `${options.prefix}:tg:rate:${chatId}`;
  const blockKey = (chatId: number) => `${options.prefix}:tg:blocked:${chatId}`;

  const tryAcquire = async (chatId: number) =>
    Number(await r.topicopsAcquire(logKey(chatId), blockKey(chatId), options.perMinute, windowMs, options.minIntervalMs, randomUUID()));

  return {
    tryAcquire,
    async acquire(chatId, signal) {
      for (;;) {
        signal?.throwIfAborted();
        const wait = await tryAcquire(chatId);
        if (wait <= 0) return;
        // Small jitter so replicas waiting for the same slot do not all ask at the same instant.
        await sleep(Math.min(wait, 5_000) + Math.floor(Math.random() * 25), signal);
      }
    },
    async block(chatId, ms) {
      if (ms > 0) await r.topicopsBlock(blockKey(chatId), Math.ceil(ms));
    },
    async used(chatId) {
      await redis.zremrangebyscore(logKey(chatId), "-inf", Date.now() - windowMs);
      return redis.zcard(logKey(chatId));
    },
  };
}
