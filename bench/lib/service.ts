import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startFakeTelegram, type FakeTelegram, type FakeTelegramOptions } from "../../test/fake-telegram/index.ts";
import { benchRedisUrl } from "./infra.ts";
import { freePort, repoRoot, startChild, type Child } from "./process.ts";
import type { Scope } from "./scope.ts";

/** Any 16+ characters do; the benchmark sends it, nobody else knows it. */
export const BENCH_HOOK_TOKEN = "bench-hook-token-0123456789abcdef";

/** The fake Bot API server in this process, closed with the scope. */
export async function startBenchTelegram(scope: Scope, options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const fake = await startFakeTelegram(options);
  scope.defer("close the fake Telegram", () => fake.close());
  return fake;
}

export interface ServiceProcessOptions {
  scope: Scope;
  /** `web`, `worker` or `serve`. */
  command: "web" | "worker" | "serve";
  databaseUrl: string;
  prefix: string;
  fake: FakeTelegram;
  /** Extra variables (TOPICS_DIR, …); everything else is the service's default. */
  env?: Record<string, string>;
}

/**
 * The checkout whose service is measured: this one, or another (BENCH_SERVICE_ROOT=/path/to/clone,
 * with its own node_modules) to compare two versions with the same benchmark code.
 */
export const serviceRoot = resolve(process.env.BENCH_SERVICE_ROOT ?? repoRoot);

/**
 * `node bin/topicops.js <command>` as a child process, waited for until GET /readyz answers 200.
 * It runs in an empty directory: bin/topicops.js reads a `.env` from its working directory, and a
 * developer's .env must not change what is measured. Paths that default to the working directory
 * (topics, runbooks) point at the checkout instead.
 */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<Child> {
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), "topicops-bench-cwd-"));
  options.scope.defer(`remove ${cwd}`, () => rmSync(cwd, { recursive: true, force: true }));
  return startChild({
    name: `topicops ${options.command}`,
    args: [join(serviceRoot, "bin", "topicops.js"), options.command],
    cwd,
    port,
    scope: options.scope,
    readyPath: "/readyz",
    env: {
      TOPICS_DIR: join(serviceRoot, "topics"),
      RUNBOOKS_DIR: join(serviceRoot, "runbooks"),
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: options.databaseUrl,
      REDIS_URL: benchRedisUrl,
      QUEUE_PREFIX: options.prefix,
      TELEGRAM_BOT_TOKEN: options.fake.token,
      TELEGRAM_CHAT_ID: String(options.fake.chatId),
      TELEGRAM_API_ROOT: options.fake.apiRoot,
      HOOK_TOKEN: BENCH_HOOK_TOKEN,
      LOG_LEVEL: "warn",
      ...options.env,
    },
  });
}
