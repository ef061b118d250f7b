import { dropStaleTestDatabases } from "./helpers/db.ts";
import { clearStalePrefixes, createTestRedis } from "./helpers/redis.ts";

/** Once per `npm test`: clear the databases and Redis keys that killed runs left behind. */
export default async function setup(): Promise<void> {
  await dropStaleTestDatabases();
  const redis = createTestRedis();
  try {
    await clearStalePrefixes(redis);
  } finally {
    await redis.quit();
  }
}
