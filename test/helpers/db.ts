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
  const name = `topicops_t_${randomBytes(5).toString("hex")}`;
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
