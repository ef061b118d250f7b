import type { Sql } from "../db/client.ts";
import type { ProposalStatus } from "../db/schema.ts";
import type { RunbookLibrary } from "../runbooks/types.ts";
import { resolveParams } from "../runbooks/template.ts";
import type { Actor } from "./actions.ts";
import { isPending, PENDING_STATUSES } from "./card.ts";
import { recordProposalDecision } from "./records.ts";

export interface ModifiableParam {
  name: string;
  description: string | undefined;
  pattern: string;
  current: string | undefined;
}

export type ModifyPlan =
  | { ok: true; proposalId: number; groupId: number; runbookId: string; title: string; params: ModifiableParam[] }
  | { ok: false; message: string };

/** What a person may change in a proposal before approving it: each parameter, with its pattern. */
export async function loadForModify(deps: { sql: Sql; library: () => RunbookLibrary | undefined }, proposalId: number): Promise<ModifyPlan> {
  const [p] = await deps.sql<{ id: number; group_id: number; runbook_id: string; params: Record<string, string>; status: ProposalStatus; expires_at: Date }[]>`
    select id, group_id, runbook_id, params, status, expires_at from proposals where id = ${proposalId}`;
  if (!p) return { ok: false, message: "This card is gone." };
  if (!isPending(p.status)) return { ok: false, message: `This proposal is ${p.status}; nothing to modify.` };
  if (p.expires_at.getTime() <= Date.now()) return { ok: false, message: "This proposal has expired." };
  const runbook = deps.library()?.byId(p.runbook_id);
  if (!runbook) return { ok: false, message: `The runbook ${p.runbook_id} is not in the library any more.` };
  if (runbook.params.length === 0) return { ok: false, message: `${runbook.title} takes no parameters; approve or ignore it as it is.` };
  return {
    ok: true,
    proposalId: p.id,
    groupId: p.group_id,
    runbookId: runbook.id,
    title: runbook.title,
    params: runbook.params.map((param) => ({ name: param.name, description: param.description, pattern: param.pattern, current: p.params[param.name] })),
  };
}

/** A value is checked exactly as the executor will check it; the answer says why not. */
export function checkValue(deps: { library: () => RunbookLibrary | undefined }, runbookId: string, name: string, value: string): string | undefined {
  const runbook = deps.library()?.byId(runbookId);
  const param = runbook?.params.find((p) => p.name === name);
  if (!param) return `the runbook no longer has a parameter "${name}"`;
  const result = resolveParams({ params: [param] }, { labels: {}, annotations: {} }, { [name]: value });
  return "error" in result ? result.error : undefined;
}

/**
 * The modified plan replaces the proposal on the card (the old one is marked cancelled) and waits
 * for Approve like any other: the same level, the same second approver for high risk.
 */
export async function saveModified(
  deps: { sql: Sql; library: () => RunbookLibrary | undefined },
  proposalId: number,
  values: Record<string, string>,
  actor: Actor,
): Promise<{ ok: true; groupId: number; proposalId: number } | { ok: false; message: string }> {
  const runbook = deps.library()?.byId((await deps.sql<{ runbook_id: string }[]>`select runbook_id from proposals where id = ${proposalId}`)[0]?.runbook_id ?? "");
  if (!runbook) return { ok: false, message: "The runbook is not in the library any more." };
  const resolved = resolveParams(runbook, { labels: {}, annotations: {} }, values);
  if ("error" in resolved) return { ok: false, message: resolved.error };
  return deps.sql.begin(async (tx) => {
    const [old] = await tx<{ id: number; group_id: number; episode: number; chat_id: number; runbook_id: string; level: string; risk: string; fingerprint: string; alertname: string; expires_at: Date }[]>`
      update proposals set status = 'cancelled'
      where id = ${proposalId} and status in ${tx(PENDING_STATUSES)} and expires_at > now()
      returning id, group_id, episode, chat_id, runbook_id, level, risk, fingerprint, alertname, expires_at`;
    if (!old) return { ok: false as const, message: "Someone decided on this proposal meanwhile; nothing was changed." };
    const [created] = await tx<{ id: number }[]>`
      insert into proposals (chat_id, group_id, episode, runbook_id, level, risk, params, fingerprint, alertname, status, supersedes, expires_at)
      values (${old.chat_id}, ${old.group_id}, ${old.episode}, ${old.runbook_id}, ${old.level}, ${old.risk}, ${tx.json(resolved.values)},
              ${old.fingerprint}, ${old.alertname}, 'open', ${old.id}, ${old.expires_at})
      returning id`;
    await recordProposalDecision(tx, old.chat_id, { ...old, id: created!.id, params: resolved.values }, "modified", actor);
    return { ok: true as const, groupId: old.group_id, proposalId: created!.id };
  });
}
