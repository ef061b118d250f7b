import postgres from "postgres";

export type Sql = postgres.Sql;
/** A connection or a transaction: query helpers accept either. */
export type Tx = postgres.Sql | postgres.TransactionSql;

export interface Database {
  /** postgres.js: the queries of the hot paths (conditional upserts, SKIP LOCKED claims, LISTEN). */
  sql: Sql;
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
  return {
    sql,
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
