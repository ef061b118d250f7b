import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { Redis } from "ioredis";
import { createDatabase, type Database } from "../../src/db/client.ts";
import { ensureDatabase } from "../../src/db/migrate.ts";
import { clearPrefix } from "../../test/helpers/redis.ts";
import type { Scope } from "./scope.ts";

/** The Postgres server and Redis the benchmarks use; the same local servers the tests use. */
export const benchServerUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? "postgres://127.0.0.1:5432/postgres";
export const benchRedisUrl = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface BenchDatabase extends Database {
  name: string;
  url: string;
}

/**
 * A fresh database, migrated the way the service migrates its own, dropped when the scope closes.
 * A random name, so a benchmark never touches a developer's data (or another run's).
 */
export async function createBenchDatabase(scope: Scope, options: { max?: number } = {}): Promise<BenchDatabase> {
  const name = `topicops_bench_${randomBytes(5).toString("hex")}`;
  const url = new URL(benchServerUrl);
  url.pathname = `/${name}`;
  // Registered before creating: a failure half-way still drops whatever got created.
  scope.defer(`drop database ${name}`, () => dropDatabase(name));
  await ensureDatabase(url.toString());
  const database = createDatabase(url.toString(), { max: options.max ?? 10, applicationName: "topicops-bench" });
  scope.defer(`close the bench's connections to ${name}`, () => database.close());
  return Object.assign(database, { name, url: url.toString() });
}

async function dropDatabase(name: string): Promise<void> {
  const admin = postgres(benchServerUrl, { max: 1, onnotice: () => {} });
  try {
    await admin`drop database if exists ${admin(name)} with (force)`;
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** A private QUEUE_PREFIX (queues, rate-limit log), its keys deleted when the scope closes. */
export function benchPrefix(scope: Scope): string {
  const prefix = `topicops-bench-${randomBytes(4).toString("hex")}`;
  scope.defer(`delete Redis keys under ${prefix}`, async () => {
    const redis = new Redis(benchRedisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
    try {
      await redis.connect();
      await clearPrefix(redis, prefix);
    } finally {
      redis.disconnect();
    }
  });
  return prefix;
}

/** The commit of the checkout under test, with "+dirty" when its tracked files have changes. */
function commitOf(dir: string): string {
  try {
    const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? "+dirty" : ""}`;
  } catch {
    return "unknown";
  }
}

/**
 * The machine and checkout, for benchmarks that run in-process and need no database or Redis.
 */
export async function machineEnvironment(serviceRoot: string): Promise<Record<string, unknown>> {
  const os = await import("node:os");
  return {
    serviceRoot,
    serviceCommit: commitOf(serviceRoot),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryMb: Math.round(os.totalmem() / 1024 / 1024),
    // Anything else running on the machine (tests, another benchmark) skews every number here.
    loadAverageAtStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

/** Versions and machine, so a result file says what it was measured against: the machine, plus the servers' versions. */
export async function environment(db: Database, serviceRoot: string): Promise<Record<string, unknown>> {
  const [pg] = await db.sql<{ version: string }[]>`select current_setting('server_version') as version`;
  const redis = new Redis(benchRedisUrl, { maxRetriesPerRequest: 1 });
  let redisVersion = "unknown";
  try {
    redisVersion = /redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? "unknown";
  } finally {
    redis.disconnect();
  }
  return { ...(await machineEnvironment(serviceRoot)), postgres: pg?.version, redis: redisVersion };
}

/** One report line: which checkout was measured, and how busy the machine was when it began. */
export function checkoutLine(env: Record<string, unknown>): string {
  return `service checkout: ${String(env.serviceCommit)} (${String(env.serviceRoot)}); load average at start ${JSON.stringify(env.loadAverageAtStart)} on ${String(env.cpus)} CPUs`;
}
