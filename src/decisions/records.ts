import type { Tx } from "../db/client.ts";

/**
 * The rows every decision path writes: a decision (who decided what about which alert) and the run
 * a proposal leads to. One insert each, so the buttons, Modify and the unattended path record the
 * same columns the same way.
 */

export interface DecisionRecord {
  chatId: number;
  groupId: number;
  episode: number;
  alertname: string;
  labels: Record<string, string>;
  summary?: string | null;
  runbookId?: string;
  level?: string;
  /** approved, confirmed, ignored, modified, silenced, unsilenced, auto, demoted … */
  action: string;
  /** Nobody for the ladder's own decisions (auto). */
  actor?: { id: number; name: string } | undefined;
  params: Record<string, string>;
  proposalId?: number;
}

export async function insertDecision(tx: Tx, d: DecisionRecord): Promise<void> {
  await tx`
    insert into decisions (chat_id, group_id, episode, alertname, labels, summary, runbook_id, level, action, actor_id, actor_name, params, proposal_id)
    values (${d.chatId}, ${d.groupId}, ${d.episode}, ${d.alertname}, ${tx.json(d.labels)}, ${d.summary ?? null}, ${d.runbookId ?? null},
            ${d.level ?? null}, ${d.action}, ${d.actor?.id ?? null}, ${d.actor?.name ?? null}, ${tx.json(d.params)}, ${d.proposalId ?? null})`;
}

/** What a decision about a proposal records of it. */
export interface DecidedProposal {
  id: number;
  group_id: number;
  episode: number;
  fingerprint: string;
  alertname: string;
  runbook_id: string;
  level: string;
  params: Record<string, string>;
}

/** A person's decision about a proposal, recorded with the alert it was made for (its lead alert's latest row in the episode). */
export async function recordProposalDecision(tx: Tx, chatId: number, p: DecidedProposal, action: string, actor: { id: number; name: string }): Promise<void> {
  const [alert] = await tx<{ labels: Record<string, string>; annotations: Record<string, string> }[]>`
    select labels, annotations from alerts where group_id = ${p.group_id} and episode = ${p.episode} and fingerprint = ${p.fingerprint}
    order by id desc limit 1`;
  await insertDecision(tx, {
    chatId,
    groupId: p.group_id,
    episode: p.episode,
    alertname: p.alertname,
    labels: alert?.labels ?? {},
    summary: alert?.annotations.summary ?? null,
    runbookId: p.runbook_id,
    level: p.level,
    action,
    actor,
    params: p.params,
    proposalId: p.id,
  });
}

/**
 * The run a proposal leads to. At most one per proposal (its unique id): a second insert for the
 * same proposal does nothing and returns undefined.
 */
export async function insertExecution(
  tx: Tx,
  run: {
    proposalId: number;
    runbookId: string;
    params: Record<string, string>;
    trigger: "approved" | "auto";
    level: string;
    groupId: number;
    episode: number;
    fingerprint: string;
  },
): Promise<number | undefined> {
  const [execution] = await tx<{ id: number }[]>`
    insert into executions (proposal_id, runbook_id, params, trigger, level, group_id, episode, fingerprint)
    values (${run.proposalId}, ${run.runbookId}, ${tx.json(run.params)}, ${run.trigger}, ${run.level}, ${run.groupId}, ${run.episode}, ${run.fingerprint})
    on conflict (proposal_id) do nothing
    returning id`;
  return execution?.id;
}
