import { Redis } from "ioredis";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { startService, type Service, type ServiceOptions } from "../../src/main.ts";
import { startFakeTelegram, type FakeTelegram, type FakeTelegramOptions } from "../fake-telegram/index.ts";
import { createTestDatabase, type TestDatabase } from "./db.ts";
import { clearPrefix, testPrefix, testRedisUrl } from "./redis.ts";

export const HOOK_TOKEN = "test-hook-token-0123456789abcdef";

export interface TestService {
  service: Service;
  fake: FakeTelegram;
  db: TestDatabase;
  url: string;
  env: Record<string, string>;
  /** POSTs a webhook body with the hook token (unless headers say otherwise). */
  hook(path: string, body: string, headers?: Record<string, string>): Promise<Response>;
  /** Stops the service (not the fake or the database): to restart it against the same state. */
  stopService(): Promise<void>;
  restart(): Promise<void>;
  /** Another process of the same deployment (same database, Redis prefix and Telegram): a replica. */
  replica(options: Partial<Omit<ServiceOptions, "logger">>): Promise<Service>;
  stop(): Promise<void>;
}

export interface TestServiceOptions {
  env?: Record<string, string>;
  fake?: FakeTelegramOptions;
  service?: Partial<Omit<ServiceOptions, "logger">>;
}

/**
 * The whole service in this process, against a fresh database, a private Redis prefix and the
 * fake Telegram. Telegram's rate limit is lifted unless a test sets it (the limiter has tests of
 * its own); everything else is as in production.
 */
export async function startTestService(options: TestServiceOptions = {}): Promise<TestService> {
  const fake = await startFakeTelegram(options.fake);
  const db = await createTestDatabase();
  const prefix = testPrefix();
  const env: Record<string, string> = {
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: db.url,
    REDIS_URL: testRedisUrl,
    TELEGRAM_BOT_TOKEN: fake.token,
    TELEGRAM_CHAT_ID: String(fake.chatId),
    TELEGRAM_API_ROOT: fake.apiRoot,
    HOOK_TOKEN,
    QUEUE_PREFIX: prefix,
    TELEGRAM_RATE_PER_MINUTE: "600",
    TELEGRAM_MIN_INTERVAL_MS: "0",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    ...options.env,
  };
  const serviceOptions = { web: true, workers: true, telegramUpdates: false, poll: true, ...options.service };
  const start = () =>
    startService(loadConfig(env, ["telegram", "hooks"]), {
      ...serviceOptions,
      logger: createLogger({ level: env.LOG_LEVEL ?? "silent" }),
    });
  let service = await start();
  const replicas: Service[] = [];
  const handle: TestService = {
    get service() {
      return service;
    },
    fake,
    db,
    env,
    get url() {
      return `http://127.0.0.1:${service.port}`;
    },
    hook(path, body, headers = {}) {
      return fetch(`${handle.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json", ...headers },
        body,
      });
    },
    stopService: () => service.stop(),
    async restart() {
      await service.stop();
      service = await start();
    },
    async replica(options) {
      const replica = await startService(loadConfig({ ...env, PORT: "0" }, ["telegram", "hooks"]), {
        ...serviceOptions,
        ...options,
        logger: createLogger({ level: env.LOG_LEVEL ?? "silent" }),
      });
      replicas.push(replica);
      return replica;
    },
    async stop() {
      for (const r of replicas) await r.stop();
      await service.stop();
      await fake.close();
      const r = new Redis(testRedisUrl);
      await clearPrefix(r, prefix);
      await r.quit();
      await db.drop();
    },
  };
  return handle;
}

/** Polls until `check` returns a truthy value; fails with `describe()` after the timeout. */
export async function waitFor<T>(check: () => T | Promise<T>, describe: () => unknown = () => "", timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const detail = await Promise.resolve(describe()).catch((error: unknown) => String(error));
      throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(detail, null, 2)}${last ? ` (last error: ${String(last)})` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until no group job is queued or running, the outbox is empty and no group is behind:
 * everything stored is on Telegram. (A refresh job changes no version; only the queue shows it.)
 */
export async function settled(t: TestService, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      const jobs = await t.service.queues.signals.getJobCounts("waiting", "active", "prioritized");
      if (Object.values(jobs).some((n) => n > 0)) return false;
      const [row] = await t.db.sql<{ pending: number; behind: number }[]>`
        select (select count(*)::int from outbox) as pending,
               (select count(*)::int from alert_groups where processed_version < version) as behind`;
      return row!.pending === 0 && row!.behind === 0;
    },
    async () => t.db.sql`select o.*, c.kind, c.message_id from outbox o join cards c on c.id = o.card_id`,
    timeoutMs,
  );
}
