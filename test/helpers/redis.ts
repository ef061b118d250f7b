import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export const testRedisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A unique key prefix per test file, so files running in parallel never share queues or budgets. */
export function testPrefix(): string {
  return `topicops-t-${Math.floor(Date.now() / 1000)}-${randomBytes(4).toString("hex")}`;
}

/** Deletes the keys of test prefixes older than `maxAgeMs` (left by runs killed before cleaning up). */
export async function clearStalePrefixes(redis: Redis, maxAgeMs = 2 * 3600_000): Promise<number> {
  const cutoff = Date.now() / 1000 - maxAgeMs / 1000;
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", "topicops-t-*", "COUNT", 1000);
    cursor = next;
    const stale = keys.filter((k) => {
      const created = Number(/^topicops-t-(\d+)-/.exec(k)?.[1]);
      return !Number.isFinite(created) || created < cutoff;
    });
    if (stale.length > 0) deleted += await redis.del(...stale);
  } while (cursor !== "0");
  return deleted;
}

export function createTestRedis(): Redis {
  return new Redis(testRedisUrl, { maxRetriesPerRequest: null });
}

/** Deletes every key under a prefix (queues, rate-limit logs). */
export async function clearPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
}
