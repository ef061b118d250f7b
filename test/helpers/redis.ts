import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export const testRedisUrl = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A unique key prefix per test file, so files running in parallel never share queues or budgets. */
export function testPrefix(): string {
  return `topicops-t-${randomBytes(4).toString("hex")}`;
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
