import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { createDatabase, type Database } from "../../src/db/client.ts";
import { ensureDatabase } from "../../src/db/migrate.ts";

/** The server tests use; CI and a fresh machine have it at 127.0.0.1:5432 with trust auth. */
export const testServerUrl = process.env.TEST_DATABASE_URL ?? "postgres://127.0.0.1:5432/postgres";

export interface TestDatabase extends Database {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database per test file, migrated the way the service migrates its own. */
export async function createTestDatabase(): Promise<TestDatabase> {
  // The creation time is in the name, so a later run can drop what a killed run left behind.
  const name = `topicops_t_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString("hex")}`;
  const url = new URL(testServerUrl);
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  const database = createDatabase(url.toString(), { max: 10 });
  return {
    ...database,
    url: url.toString(),
    name,
    async drop() {
      await database.close();
      const admin = postgres(testServerUrl, { max: 1, onnotice: () => {} });
      try {
        await admin`drop database if exists ${admin(name)} with (force)`;
      } finally {
        await admin.end();
      }
    },
  };
}

/** Drops test databases older than `maxAgeMs` (left by runs that were killed before cleaning up). */
export async function dropStaleTestDatabases(maxAgeMs = 2 * 3600_000): Promise<string[]> {
  const admin = postgres(testServerUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await admin<{ datname: string }[]>`select datname from pg_database where datname like 'topicops\_t\_%'`;
    const cutoff = Date.now() / 1000 - maxAgeMs / 1000;
    const stale = rows.map((r) => r.datname).filter((name) => {
      const created = Number(/^topicops_t_(\d+)_/.exec(name)?.[1]);
      // Names from before timestamps were added have none: they are old by definition.
      return !Number.isFinite(created) || created < cutoff;
    });
    for (const name of stale) await admin`drop database if exists ${admin(name)} with (force)`;
    return stale;
  } finally {
    await admin.end();
  }
}
