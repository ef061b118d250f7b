import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatRateLimiter } from "../../src/telegram/rate-limit.ts";
import { clearPrefix, createTestRedis, testPrefix } from "../helpers/redis.ts";

let redisA: Redis;
let redisB: Redis;
const prefix = testPrefix();

beforeAll(() => {
  redisA = createTestRedis();
  redisB = createTestRedis();
});
afterAll(async () => {
  await clearPrefix(redisA, prefix);
  await redisA.quit();
  await redisB.quit();
});

describe("the per-chat rate limit shared through Redis", () => {
  it("lets at most N calls through in 60 s, across replicas, and says how long to wait", async () => {
    const options = { perMinute: 5, minIntervalMs: 0, prefix };
    // Two replicas, two Redis connections, one budget.
    const replicaA = createChatRateLimiter(redisA, options);
    const replicaB = createChatRateLimiter(redisB, options);
    const chat = -1001;
    const results: number[] = [];
    for (let i = 0; i < 8; i++) results.push(await (i % 2 === 0 ? replicaA : replicaB).tryAcquire(chat));
    expect(results.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    for (const wait of results.slice(5)) {
      expect(wait).toBeGreaterThan(55_000);
      expect(wait).toBeLessThanOrEqual(60_250);
    }
    expect(await replicaA.used(chat)).toBe(5);
    // Another chat has its own budget.
    expect(await replicaB.tryAcquire(-1002)).toBe(0);
  });

  it("keeps a minimum interval between calls", async () => {
    const limiter = createChatRateLimiter(redisA, { perMinute: 100, minIntervalMs: 10_000, prefix });
    expect(await limiter.tryAcquire(-2001)).toBe(0);
    const wait = await limiter.tryAcquire(-2001);
    expect(wait).toBeGreaterThan(9_000);
    expect(wait).toBeLessThanOrEqual(10_000);
  });

  it("a 429 blocks the chat for everyone until retry_after has passed; a shorter block never shortens it", async () => {
    const options = { perMinute: 100, minIntervalMs: 0, prefix };
    const a = createChatRateLimiter(redisA, options);
    const b = createChatRateLimiter(redisB, options);
    await a.block(-3001, 30_000);
    await b.block(-3001, 1_000);
    const wait = await b.tryAcquire(-3001);
    expect(wait).toBeGreaterThan(29_000);
    expect(wait).toBeLessThanOrEqual(30_000);
    expect(await a.used(-3001)).toBe(0);
  });

  it("acquire waits for a slot and can be aborted", async () => {
    const limiter = createChatRateLimiter(redisA, { perMinute: 1, minIntervalMs: 0, prefix });
    await limiter.acquire(-4001);
    const controller = new AbortController();
    const pending = limiter.acquire(-4001, controller.signal);
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
  });
});
