import type { TransactionSql } from "postgres";
import type { Sql, Tx } from "../db/client.ts";
import type { Risk, TrustLevel } from "../runbooks/types.ts";
import { audit } from "../decisions/audit.ts";
import { defaultThresholds, evaluate, type Evaluation, type RunRecord, type TrustThresholds } from "./policy.ts";

export function thresholdsFrom(overrides: Record<string, number> | undefined): TrustThresholds {
  return Object.freeze({ ...defaultThresholds, ...(overrides ?? {}) });
}

export interface LevelChange {
  runbookId: string;
  from: TrustLevel;
  to: TrustLevel;
  reason: string;
}

/** One row of level_changes: the policy's (with its statistics and the run behind it) or a person's. */
export async function insertLevelChange(
  tx: Tx,
  change: { runbookId: string; from: TrustLevel; to: TrustLevel; reason: string; actor?: { id: number; name: string }; stats?: unknown; executionId?: number },
): Promise<void> {
  await tx`
    insert into level_changes (runbook_id, from_level, to_level, reason, actor_id, actor_name, stats, execution_id)
    values (${change.runbookId}, ${change.from}, ${change.to}, ${change.reason}, ${change.actor?.id ?? null}, ${change.actor?.name ?? null},
            ${change.stats === undefined ? null : tx.json(change.stats as never)}, ${change.executionId ?? null})`;
}

/** A runbook's runs, as the policy reads them: finished runs only, oldest first. */
export async function runRecords(tx: TransactionSql | Sql, runbookId: string): Promise<RunRecord[]> {
  const rows = await tx<{ status: "succeeded" | "failed"; trigger: string; finished_at: Date }[]>`
    select status, trigger, finished_at from executions
    where runbook_id = ${runbookId} and status in ('succeeded', 'failed')
    order by finished_at, id`;
  return rows.map((r) => ({ outcome: r.status, unattended: r.trigger === "auto", at: r.finished_at }));
}

export async function isLockdown(tx: TransactionSql | Sql): Promise<boolean> {
  const [row] = await tx<{ value: unknown }[]>`select value from settings where key = 'lockdown'`;
  return row?.value === true;
}

/**
 * After a run: what the record says the runbook's level should be, applied and recorded with the
 * statistics behind it. Runs under the runbook row's lock, so two runs finishing together
 * evaluate one after the other. (FOR NO KEY UPDATE: it must not block the foreign-key checks of
 * decisions and runs being inserted for this runbook meanwhile, which FOR UPDATE would.)
 */
export async function applyTrust(
  tx: TransactionSql,
  runbookId: string,
  risk: Risk,
  thresholds: TrustThresholds,
  executionId?: number,
): Promise<{ change: LevelChange | undefined; evaluation: Evaluation }> {
  const [row] = await tx<{ level: TrustLevel; pinned_level: TrustLevel | null; pinned_at: Date | null }[]>`
    select level, pinned_level, pinned_at from runbooks where id = ${runbookId} for no key update`;
  const current = row?.level ?? "manual";
  const evaluation = evaluate(
    current,
    await runRecords(tx, runbookId),
    { risk, lockdown: await isLockdown(tx), ...(row?.pinned_level ? { pinned: row.pinned_level } : {}), ...(row?.pinned_at ? { pinnedAt: row.pinned_at } : {}) },
    thresholds,
  );
  if (evaluation.pin === "released") await tx`update runbooks set pinned_level = null, pinned_at = null where id = ${runbookId}`;
  if (evaluation.level === current) return { change: undefined, evaluation };
  await tx`update runbooks set level = ${evaluation.level}, level_changed_at = now() where id = ${runbookId}`;
  await insertLevelChange(tx, { runbookId, from: current, to: evaluation.level, reason: evaluation.reason, stats: evaluation.stats, ...(executionId === undefined ? {} : { executionId }) });
  return { change: { runbookId, from: current, to: evaluation.level, reason: evaluation.reason }, evaluation };
}

/**
 * A person sets a runbook's level, within the caller's transaction: under the runbook row's lock,
 * recorded with the run counts behind it, and pinned — the record does not move it until a run
 * fails after it, and a pin at manual holds until a person lifts it (policy.ts). Both /trust and a
 * card's Demote come here, so the two cannot mean different things.
 */
export async function setLevel(
  tx: TransactionSql,
  change: { runbookId: string; to: TrustLevel; reason: string; actor: { id: number; name: string }; risk: Risk },
): Promise<LevelChange | { refused: string }> {
  if (change.to === "standard" && change.risk === "high") return { refused: "high-risk runbooks never run on their own (standard)" };
  if (change.to !== "manual" && (await isLockdown(tx))) return { refused: "lockdown is on: every runbook stays manual until /lockdown off" };
  const [row] = await tx<{ level: TrustLevel }[]>`select level from runbooks where id = ${change.runbookId} for no key update`;
  if (!row) return { refused: `no runbook "${change.runbookId}"` };
  if (row.level === change.to) return { refused: `${change.runbookId} is ${change.to} already` };
  await tx`update runbooks set level = ${change.to}, level_changed_at = now(), pinned_level = ${change.to}, pinned_at = now() where id = ${change.runbookId}`;
  const stats = await runRecords(tx, change.runbookId);
  await insertLevelChange(tx, {
    runbookId: change.runbookId,
    from: row.level,
    to: change.to,
    reason: change.reason,
    actor: change.actor,
    stats: { runs: stats.length, failed: stats.filter((s) => s.outcome === "failed").length },
  });
  return { runbookId: change.runbookId, from: row.level, to: change.to, reason: change.reason };
}

/** /trust: a person sets a level by hand, with a reason; it holds until a run fails after it. */
export async function setLevelByHand(
  sql: Sql,
  change: { runbookId: string; to: TrustLevel; reason: string; actorId: number; actorName: string; risk: Risk },
): Promise<LevelChange | { refused: string }> {
  const result = await sql.begin((tx) =>
    setLevel(tx, { runbookId: change.runbookId, to: change.to, reason: change.reason, actor: { id: change.actorId, name: change.actorName }, risk: change.risk }),
  );
  return "refused" in result ? result : { ...result, reason: `set by ${change.actorName}: ${change.reason}` };
}

/** /lockdown: every runbook back to manual at once, and no promotion or unattended run until it is lifted. */
export async function lockdown(sql: Sql, on: boolean, actor: { id: number; name: string }): Promise<{ demoted: LevelChange[] }> {
  return sql.begin(async (tx) => {
    await tx`
      insert into settings (key, value) values ('lockdown', ${tx.json(on)})
      on conflict (key) do update set value = excluded.value, updated_at = now()`;
    await audit(tx, { actorId: actor.id, actorName: actor.name, action: on ? "lockdown-on" : "lockdown-off", detail: {} });
    if (!on) return { demoted: [] };
    const reason = `lockdown by ${actor.name}`;
    // One statement for every runbook: the rows locked in id order, demoted and unpinned, each change recorded.
    const rows = await tx<{ id: string; level: TrustLevel }[]>`
      with old as (
        select id, level from runbooks where level <> 'manual' and removed_at is null order by id for no key update
      ), demoted as (
        update runbooks r set level = 'manual', level_changed_at = now(), pinned_level = null, pinned_at = null
        from old where r.id = old.id
        returning r.id, old.level
      ), recorded as (
        insert into level_changes (runbook_id, from_level, to_level, reason, actor_id, actor_name)
        select id, level, 'manual', ${reason}, ${actor.id}, ${actor.name} from demoted order by id
        returning runbook_id, from_level
      )
      select runbook_id as id, from_level as level from recorded order by runbook_id`;
    // Runs queued on their own must not start either.
    await tx`update executions set status = 'refused', error = 'lockdown', finished_at = now() where status = 'queued' and trigger = 'auto'`;
    return { demoted: rows.map((r) => ({ runbookId: r.id, from: r.level, to: "manual" as const, reason })) };
  });
}
