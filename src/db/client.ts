import postgres from "postgres";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import * as schema from "./schema.ts";

export type Schema = typeof schema;
export type Db = PostgresJsDatabase<Schema>;
export type Sql = postgres.Sql;
/** A connection or a transaction: query helpers accept either. */
export type Tx = postgres.Sql | postgres.TransactionSql;

export interface Database {
  /** postgres.js: the queries of the hot paths (conditional upserts, SKIP LOCKED claims, LISTEN). */
  sql: Sql;
  /** drizzle over its own small pool, for typed queries over the schema. */
  readonly db: Db;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
}

function client(url: string, max: number, applicationName: string) {
  return postgres(url, {
    max,
    onnotice: () => {},
    connection: { application_name: applicationName },
    // int8 columns come back as JS numbers: ids and Telegram chat ids all fit in 2^53.
    types: {
      bigint: { to: 20, from: [20], serialize: (x: number | bigint) => String(x), parse: (x: string) => Number(x) },
    },
    transform: { undefined: null },
  });
}

export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  const name = options.applicationName ?? "topicops";
  const sql = client(url, options.max ?? 10, name);
  // drizzle replaces the json and timestamp parsers of the client it wraps with its own mapping,
  // which would hand raw strings to every tagged query; so it gets a client of its own.
  let drizzleSql: Sql | undefined;
  let db: Db | undefined;
  return {
    sql,
    get db() {
      drizzleSql ??= client(url, 2, `${name}-drizzle`);
      db ??= drizzle(drizzleSql, { schema });
      return db;
    },
    async close() {
      await Promise.all([sql.end({ timeout: 5 }), drizzleSql?.end({ timeout: 5 })]);
    },
  };
}
