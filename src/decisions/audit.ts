import type { Tx } from "../db/client.ts";

/** Security-relevant events that are not decisions (refused presses, stale buttons, lockdowns). */
export async function audit(sql: Tx, event: { actorId?: number; actorName?: string; action: string; target?: string; detail?: Record<string, unknown> }): Promise<void> {
  await sql`
    insert into audit_log (actor_id, actor_name, action, target, detail)
    values (${event.actorId ?? null}, ${event.actorName ?? null}, ${event.action}, ${event.target ?? null}, ${event.detail ? sql.json(event.detail as never) : null})`;
}
