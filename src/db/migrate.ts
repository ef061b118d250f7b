import postgres from "postgres";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import { drizzle } from "drizzle-orm/postgres-js";
import { AppError, errorMessage } from "../errors.ts";
import type { Logger } from "../logger.ts";

export const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));

/** Arbitrary constant: replicas starting together take turns applying migrations. */
const MIGRATION_LOCK = 7_341_002;

/**
 * Creates the database when the server allows it (a fresh machine, or a dedicated Postgres in compose),
 * then applies the committed migrations under an advisory lock.
 */
export async function ensureDatabase(url: string, logger?: Logger): Promise<void> {
  await createDatabaseIfMissing(url, logger);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migrate(drizzle(sql), { migrationsFolder });
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    logger?.info("database migrations applied");
  } catch (error) {
    throw new AppError("unavailable", `Could not migrate the database: ${errorMessage(error)}`, { cause: error });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function createDatabaseIfMissing(url: string, logger?: Logger): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ""));
  if (!name) throw new AppError("config", "DATABASE_URL must name a database, e.g. postgres://127.0.0.1:5432/topicops");
  const probe = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await probe`select 1`;
    return;
  } catch (error) {
    // 3D000 = invalid_catalog_name: the server is there, the database is not.
    if ((error as { code?: string }).code !== "3D000") {
      throw new AppError("unavailable", `Could not connect to Postgres at ${target.host}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  } finally {
    await probe.end({ timeout: 5 });
  }
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const sql = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  try {
    await sql`create database ${sql(name)}`;
    logger?.info({ database: name }, "created database");
  } catch (error) {
    // 42P04 = duplicate_database: another replica won the race.
    if ((error as { code?: string }).code !== "42P04") {
      throw new AppError(
        "unavailable",
        `Database "${name}" does not exist and could not be created (${errorMessage(error)}); create it or grant CREATEDB`,
        { cause: error },
      );
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
