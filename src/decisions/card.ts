import type { TransactionSql } from "postgres";
import type { InlineKeyboardButton, InlineKeyboardMarkup } from "grammy/types";
import type { ProposalStatus } from "../db/schema.ts";
import type { RunbookMatch } from "../runbooks/match.ts";
import type { RunbookService } from "../runbooks/service.ts";
import { resolveParams } from "../runbooks/template.ts";
import type { Runbook, TrustLevel } from "../runbooks/types.ts";
import type { CardAlert, CardSection } from "../telegram/render/alert-card.ts";
import { bold, code, escapeHtml, formatTime, truncate } from "../telegram/render/html.ts";
import { buttonExpiry, type CallbackCodec } from "../telegram/callback-data.ts";
import { isLockdown } from "../trust/service.ts";
import { insertDecision, insertExecution } from "./records.ts";

/** A proposal still waiting for a person: its buttons act on it, Modify may replace it, and it can expire. */
export const PENDING_STATUSES: readonly ProposalStatus[] = Object.freeze(["open", "confirming", "awaiting_second"]);

export function isPending(status: ProposalStatus): boolean {
  return PENDING_STATUSES.includes(status);
}

export interface ProposalRow {
  id: number;
  group_id: number;
  episode: number;
  runbook_id: string;
  level: TrustLevel;
  risk: "low" | "medium" | "high";
  params: Record<string, string>;
  param_error: string | null;
  fingerprint: string;
  alertname: string;
  status: ProposalStatus;
  first_approver_id: number | null;
  first_approver_name: string | null;
  decided_by_name: string | null;
  expires_at: Date;
}

interface ExecutionRow {
  id: number;
  status: string;
  trigger: "approved" | "auto";
  error: string | null;
}

interface SilenceRow {
  id: number;
  ends_at: Date;
  created_by_name: string;
}

export interface DecideDeps {
  runbooks: () => RunbookService | undefined;
  codec: CallbackCodec;
  buttonTtlMinutes: number;
  /** Silence buttons only when there is an Alertmanager to create silences in. */
  silences: boolean;
  loopProtectionFailures: number;
  /** Renders a runbook's steps for people, without running anything (the plan on the card). */
  plan: (runbook: Runbook, values: Record<string, string>) => string[];
  now?: () => Date;
}

export interface DecideInput {
  tx: TransactionSql;
  chatId: number;
  groupId: number;
  episode: number;
  alerts: readonly CardAlert[];
  lead: CardAlert | undefined;
  /** The runbooks matched for this card (best first), when search has answered. */
  matches: readonly RunbookMatch[] | undefined;
  /** When the card's episode began: silence buttons expire with the card's other buttons. */
  cardCreatedAt: Date;
}

export interface DecideResult {
  sections: CardSection[];
  replyMarkup: InlineKeyboardMarkup | undefined;
  /** Runs to enqueue once the card's transaction has committed. */
  executions: number[];
}

/**
 * "Decide by trust level": the proposal a card carries and the buttons it offers. The first
 * render of a firing card proposes its best runnable runbook; at `standard` (never for high risk,
 * never in lockdown, not after repeated failure for this alert) it is approved on the spot and run.
 * Later renders show the proposal's state; a resolved card keeps the outcome and loses the buttons.
 */
export function createDecider(deps: DecideDeps) {
  const now = deps.now ?? (() => new Date());

  return async function decide(input: DecideInput): Promise<DecideResult> {
    const { tx } = input;
    const firing = input.alerts.some((a) => a.status === "firing");
    const executions: number[] = [];

    if (!firing) {
      await tx`
        update proposals set status = 'expired' where group_id = ${input.groupId} and episode = ${input.episode}
          and status in ${tx(PENDING_STATUSES)}`;
    }

    let proposal = await currentProposal(tx, input.groupId, input.episode);
    let stopped = false;
    if (!proposal && firing && input.lead && input.matches) {
      const created = await propose(input);
      proposal = created?.proposal;
      stopped = created?.stopped ?? false;
      if (created?.execution) executions.push(created.execution);
    } else if (proposal && proposal.status === "open" && firing) {
      stopped = await loopStopped(tx, proposal.runbook_id, proposal.fingerprint, deps.loopProtectionFailures);
    }

    const sections: CardSection[] = [];
    const rows: InlineKeyboardButton[][] = [];
    const expiresAt = buttonExpiry(proposal ? proposal.expires_at : new Date(input.cardCreatedAt.getTime() + deps.buttonTtlMinutes * 60_000));
    const live = firing && expiresAt.getTime() > now().getTime();
    const button = (text: string, verb: string, ...args: (string | number)[]) => ({
      text,
      callback_data: deps.codec.encode(verb, args, { expiresAt }),
    });

    if (proposal) {
      const execution = await latestExecution(tx, proposal.id);
      const runbook = deps.runbooks()?.library().byId(proposal.runbook_id);
      sections.push({ html: proposalSection(proposal, execution, runbook, deps.plan, stopped, deps.loopProtectionFailures) });
      if (live) rows.push(...proposalButtons(proposal, execution, button));
    }

    const silence = await activeSilence(tx, input.groupId, input.episode, now());
    if (silence) {
      sections.push({ html: `🔕 Silenced until ${escapeHtml(formatTime(silence.ends_at))} by ${escapeHtml(silence.created_by_name)}` });
      if (firing) rows.push([button("🔔 Unsilence", "us", silence.id)]);
    } else if (deps.silences && live) {
      rows.push([1, 4, 24].map((h) => button(`🔕 ${h}h`, "sl", input.groupId, input.episode, h)));
    }

    return { sections, replyMarkup: rows.length > 0 ? { inline_keyboard: rows } : undefined, executions };
  };

  async function propose(input: DecideInput): Promise<{ proposal: ProposalRow; execution?: number; stopped: boolean } | undefined> {
    const { tx } = input;
    const service = deps.runbooks();
    const lead = input.lead!;
    const runbook = input.matches!.map((m) => service?.library().byId(m.runbookId)).find((rb): rb is Runbook => rb?.kind === "runbook");
    if (!runbook) return undefined;
    const [state] = await tx<{ level: TrustLevel }[]>`select level from runbooks where id = ${runbook.id}`;
    const level = state?.level ?? runbook.startingLevel;
    const resolved = resolveParams(runbook, { labels: lead.labels, annotations: lead.annotations });
    const values = "values" in resolved ? resolved.values : {};
    const paramError = "error" in resolved ? resolved.error : null;
    const lockdown = await isLockdown(tx);
    const stopped = await loopStopped(tx, runbook.id, lead.fingerprint, deps.loopProtectionFailures);
    const auto = level === "standard" && runbook.risk !== "high" && !lockdown && !stopped && paramError === null;
    const expiresAt = new Date(now().getTime() + deps.buttonTtlMinutes * 60_000);
    const [proposal] = await tx<ProposalRow[]>`
      insert into proposals (chat_id, group_id, episode, runbook_id, level, risk, params, param_error, fingerprint, alertname, status,
                             decided_by_name, decided_at, expires_at)
      values (${input.chatId}, ${input.groupId}, ${input.episode}, ${runbook.id}, ${level}, ${runbook.risk}, ${tx.json(values)}, ${paramError},
              ${lead.fingerprint}, ${lead.alertname}, ${auto ? "approved" : "open"}, ${auto ? "topicops (standard)" : null},
              ${auto ? now() : null}, ${expiresAt})
      returning *`;
    if (!auto) return { proposal: proposal!, stopped };
    const common = { groupId: input.groupId, episode: input.episode, runbookId: runbook.id, level, params: values, proposalId: proposal!.id };
    await insertDecision(tx, { ...common, chatId: input.chatId, alertname: lead.alertname, labels: lead.labels, summary: lead.annotations.summary ?? null, action: "auto" });
    const execution = await insertExecution(tx, { ...common, trigger: "auto", fingerprint: lead.fingerprint });
    return { proposal: proposal!, execution, stopped };
  }
}

export async function currentProposal(tx: TransactionSql, groupId: number, episode: number): Promise<ProposalRow | undefined> {
  const [row] = await tx<ProposalRow[]>`
    select * from proposals where group_id = ${groupId} and episode = ${episode} order by id desc limit 1`;
  return row;
}

async function latestExecution(tx: TransactionSql, proposalId: number): Promise<ExecutionRow | undefined> {
  const [row] = await tx<ExecutionRow[]>`select id, status, trigger, error from executions where proposal_id = ${proposalId}`;
  return row;
}

async function activeSilence(tx: TransactionSql, groupId: number, episode: number, at: Date): Promise<SilenceRow | undefined> {
  const [row] = await tx<SilenceRow[]>`
    select id, ends_at, created_by_name from silences
    where group_id = ${groupId} and episode = ${episode} and status = 'active' and ends_at > ${at}
    order by id desc limit 1`;
  return row;
}

/** Loop protection: the last N runs of this runbook for this alert all failed. */
export async function loopStopped(tx: TransactionSql, runbookId: string, fingerprint: string, failures: number): Promise<boolean> {
  const recent = await tx<{ status: string }[]>`
    select status from executions where runbook_id = ${runbookId} and fingerprint = ${fingerprint} and status in ('succeeded', 'failed')
    order by id desc limit ${failures}`;
  return recent.length >= failures && recent.every((r) => r.status === "failed");
}

const levelHints: Record<TrustLevel, string> = {
  manual: "manual: approve, then confirm",
  prompted: "prompted: one tap runs it",
  standard: "standard: runs on its own",
};

function proposalSection(
  p: ProposalRow,
  execution: ExecutionRow | undefined,
  runbook: Runbook | undefined,
  plan: DecideDeps["plan"],
  stopped: boolean,
  failures: number,
): string {
  const title = bold(truncate(runbook?.title ?? p.runbook_id, 80));
  const high = p.risk === "high" ? " · ⚠️ high risk: two approvers" : "";
  const lines: string[] = [];
  if (execution) {
    const who = execution.trigger === "auto" ? "on its own (standard)" : `approved by ${escapeHtml(p.decided_by_name ?? "?")}`;
    const state: Record<string, string> = {
      queued: `⏳ ${title} is queued, ${who}`,
      running: `▶️ ${title} is running, ${who}`,
      succeeded: `✅ ${title} succeeded, ${who}`,
      failed: `❌ ${title} failed, ${who}`,
      cancelled: `⏹ ${title} was cancelled, ${who}`,
      interrupted: `⚠️ ${title} was interrupted (the worker stopped); it was not run again — check by hand`,
      refused: `🚫 ${title} was refused: ${escapeHtml(truncate(execution.error ?? "", 200))}`,
    };
    lines.push(state[execution.status] ?? `${title}: ${escapeHtml(execution.status)}`);
    return lines.join("\n");
  }
  switch (p.status) {
    case "open":
      lines.push(`▶️ Proposed: ${title} · <i>${levelHints[p.level]}</i>${high}`);
      if (p.param_error) lines.push(`❗ ${escapeHtml(truncate(p.param_error, 300))} — use Modify to fill it in.`);
      else if (runbook) lines.push(...planLines(plan(runbook, p.params)));
      if (stopped) lines.push(`🛑 It failed ${failures} times in a row for this alert, so it does not run on its own any more: a person decides.`);
      break;
    case "confirming":
      lines.push(`⏳ ${escapeHtml(p.first_approver_name ?? "?")} approved ${title}; confirm to run it.`);
      break;
    case "awaiting_second":
      lines.push(`⏳ ${escapeHtml(p.first_approver_name ?? "?")} approved ${title}; high risk needs a second, different approver.`);
      break;
    case "ignored":
      lines.push(`✖ ${title} was ignored by ${escapeHtml(p.decided_by_name ?? "?")}.`);
      break;
    case "cancelled":
      lines.push(`↩️ ${title} was replaced by a modified plan.`);
      break;
    case "expired":
      lines.push(`⌛ The proposal to run ${title} expired.`);
      break;
    case "approved":
      lines.push(`⏳ ${title} approved by ${escapeHtml(p.decided_by_name ?? "?")}; starting.`);
      break;
  }
  return lines.join("\n");
}

function planLines(steps: string[]): string[] {
  const shown = steps.slice(0, 6).map((s, i) => `${i + 1}. ${code(truncate(s, 160))}`);
  if (steps.length > 6) shown.push(`…and ${steps.length - 6} more steps`);
  return shown;
}

type Button = (text: string, verb: string, ...args: (string | number)[]) => InlineKeyboardButton;

function proposalButtons(p: ProposalRow, execution: ExecutionRow | undefined, button: Button): InlineKeyboardButton[][] {
  if (execution) {
    return execution.trigger === "auto" ? [[button("⬇️ Demote to manual", "dm", p.id)]] : [];
  }
  switch (p.status) {
    case "open":
      if (p.param_error) return [[button("✏️ Modify", "md", p.id), button("✖ Ignore", "ig", p.id)]];
      return [[button("▶️ Approve", "ap", p.id), button("✖ Ignore", "ig", p.id), button("✏️ Modify", "md", p.id)]];
    case "confirming":
      return [[button("✅ Confirm: run it", "cf", p.id), button("↩️ Cancel", "cx", p.id)]];
    case "awaiting_second":
      return [[button("✅ Second approval", "ap", p.id), button("↩️ Cancel", "cx", p.id)]];
    default:
      return [];
  }
}
