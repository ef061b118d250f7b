import type { VersionedStateStorage } from "@grammyjs/conversations";
import type { Sql } from "../db/client.ts";

/** grammY conversations persisted in Postgres: a Modify survives a restart and any replica can resume it. */
export function postgresConversationStorage<S>(sql: Sql): VersionedStateStorage<string, S> {
  return {
    async read(key) {
      const [row] = await sql<{ value: unknown }[]>`select value from conversation_state where key = ${key}`;
      return row?.value as never;
    },
    async write(key, state) {
      await sql`
        insert into conversation_state (key, value) values (${key}, ${sql.json(state as never)})
        on conflict (key) do update set value = excluded.value, updated_at = now()`;
    },
    async delete(key) {
      await sql`delete from conversation_state where key = ${key}`;
    },
  };
}
