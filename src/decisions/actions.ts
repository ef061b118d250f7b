import type { TransactionSql } from "postgres";
import type { Sql } from "../db/client.ts";
import type { ProposalStatus } from "../db/schema.ts";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { postCardNotice } from "../telegram/outbox/cards.ts";
import { escapeHtml, formatTime } from "../telegram/render/html.ts";
import { setLevel } from "../trust/service.ts";
import { insertDecision, insertExecution, recordProposalDecision } from "./records.ts";
import { silenceMatchers, type AlertmanagerClient } from "./alertmanager.ts";
import { isPending, PENDING_STATUSES, type ProposalRow } from "./card.ts";

export interface Actor {
  id: number;
  name: string;
}

export interface ActionResult {
  /** What the person who tapped is told (answerCallbackQuery). */
  text: string;
  /** Show it as an alert the person must dismiss (refusals, problems). */
  alert?: boolean;
  /** Cards to render again, now that their state changed. */
  refresh: { groupId: number }[];
  /** Runs to enqueue (after the commit). */
  executions: number[];
}

/** A proposal's move from one status to another, and what it sets on the way. */
interface Move {
  from: readonly ProposalStatus[];
  to: ProposalStatus;
  firstApprover?: Actor | null;
  decidedBy?: Actor;
  /** The decision recorded when it moves. */
  action: string;
}

const none = (text: string, alert = false): ActionResult => ({ text, alert, refresh: [], executions: [] });
const gone = (): ActionResult => none("This card is gone.");

/**
 * What each button does. Every change of a proposal is one conditional UPDATE whose WHERE names
 * the status it expects, so two approvers tapping together, a redelivered callback or a stale
 * keyboard cannot change it twice; the run it leads to is inserted under the proposal's unique id.
 */
export function createDecisionActions(deps: { sql: Sql; chatId: number; alertmanager?: AlertmanagerClient; logger: Logger; now?: () => Date }) {
  const { sql } = deps;
  const now = deps.now ?? (() => new Date());

  async function load(tx: TransactionSql | Sql, id: number): Promise<ProposalRow | undefined> {
    const [p] = await tx<ProposalRow[]>`select * from proposals where id = ${id}`;
    return p;
  }

  /** A button on a proposal: its transaction, with the proposal as it is now. */
  function onProposal(id: number, act: (tx: TransactionSql, p: ProposalRow) => Promise<ActionResult>): Promise<ActionResult> {
    return sql.begin(async (tx) => {
      const p = await load(tx, id);
      return p ? act(tx, p) : gone();
    });
  }

  /** The transition itself: only from `from`, else nothing changes and the caller says why. */
  async function transition(tx: TransactionSql, id: number, move: Move): Promise<boolean> {
    const first = move.firstApprover === undefined ? tx`` : tx`, first_approver_id = ${move.firstApprover?.id ?? null}, first_approver_name = ${move.firstApprover?.name ?? null}`;
    const decided = move.decidedBy ? tx`, decided_by_id = ${move.decidedBy.id}, decided_by_name = ${move.decidedBy.name}, decided_at = ${now()}` : tx``;
    const rows = await tx`
      update proposals set status = ${move.to} ${first} ${decided}
      where id = ${id} and status in ${tx(move.from)} and expires_at > ${now()}
      returning id`;
    return rows.length === 1;
  }

  /**
   * Moves the proposal and records the decision; undefined when it moved. When it could not (someone
   * was quicker, it expired), nothing changes and the answer for the person says why.
   */
  async function decide(tx: TransactionSql, p: ProposalRow, actor: Actor, move: Move): Promise<ActionResult | undefined> {
    if (!(await transition(tx, p.id, move))) {
      const current = await load(tx, p.id);
      return current ? closed(current, actor) : gone();
    }
    await recordProposalDecision(tx, deps.chatId, p, move.action, actor);
    return undefined;
  }

  /** The run an approval leads to, to enqueue after the commit (none if the proposal has one already). */
  async function run(tx: TransactionSql, p: ProposalRow): Promise<number[]> {
    const execution = await insertExecution(tx, {
      proposalId: p.id,
      runbookId: p.runbook_id,
      params: p.params,
      trigger: "approved",
      level: p.level,
      groupId: p.group_id,
      episode: p.episode,
      fingerprint: p.fingerprint,
    });
    return execution === undefined ? [] : [execution];
  }

  /** Why a tap did nothing, in words for the person who tapped. */
  function closed(p: ProposalRow, actor: Actor): ActionResult {
    if (p.expires_at.getTime() <= now().getTime() && isPending(p.status)) {
      return { ...none("This button has expired."), refresh: [{ groupId: p.group_id }] };
    }
    switch (p.status) {
      case "approved":
        return none(`Already approved by ${p.decided_by_name ?? "someone"}.`);
      case "confirming":
        return none("Waiting for the confirmation: tap Confirm to run it, or Cancel.");
      case "awaiting_second":
        return p.first_approver_id === actor.id
          ? none("You approved already; high risk needs a second, different approver.", true)
          : none("Waiting for a second approver.");
      default:
        return none(`This proposal is ${p.status}.`);
    }
  }

  function approveOrSecond(id: number, actor: Actor): Promise<ActionResult> {
    return onProposal(id, async (tx, p) => {
      const refresh = [{ groupId: p.group_id }];
      if (p.status === "open" && p.param_error) return none(`Fill in the parameters first (Modify): ${p.param_error}`, true);
      if (p.status === "open") {
        if (p.risk === "high") {
          const refusal = await decide(tx, p, actor, { from: ["open"], to: "awaiting_second", firstApprover: actor, action: "approved" });
          if (refusal) return refusal;
          return { text: "Approved. High risk: a second, different approver must approve too.", refresh, executions: [] };
        }
        if (p.level === "manual") {
          const refusal = await decide(tx, p, actor, { from: ["open"], to: "confirming", firstApprover: actor, action: "approved" });
          if (refusal) return refusal;
          return { text: "Approved. This runbook is manual: tap Confirm to run it.", refresh, executions: [] };
        }
        const refusal = await decide(tx, p, actor, { from: ["open"], to: "approved", firstApprover: actor, decidedBy: actor, action: "approved" });
        if (refusal) return refusal;
        return { text: `Running ${p.runbook_id}…`, refresh, executions: await run(tx, p) };
      }
      if (p.status === "awaiting_second" && p.first_approver_id !== actor.id) {
        const refusal = await decide(tx, p, actor, { from: ["awaiting_second"], to: "approved", decidedBy: actor, action: "approved" });
        if (refusal) return refusal;
        return { text: `Second approval recorded. Running ${p.runbook_id}…`, refresh, executions: await run(tx, p) };
      }
      return closed(p, actor);
    });
  }

  return {
    approve: approveOrSecond,

    confirm(id: number, actor: Actor): Promise<ActionResult> {
      return onProposal(id, async (tx, p) => {
        const refusal = await decide(tx, p, actor, { from: ["confirming"], to: "approved", decidedBy: actor, action: "confirmed" });
        if (refusal) return refusal;
        return { text: `Confirmed. Running ${p.runbook_id}…`, refresh: [{ groupId: p.group_id }], executions: await run(tx, p) };
      });
    },

    cancel(id: number, actor: Actor): Promise<ActionResult> {
      return onProposal(id, async (tx, p) => {
        const refusal = await decide(tx, p, actor, { from: ["confirming", "awaiting_second"], to: "open", firstApprover: null, action: "cancelled" });
        if (refusal) return refusal;
        return { text: "Cancelled; nothing ran.", refresh: [{ groupId: p.group_id }], executions: [] };
      });
    },

    ignore(id: number, actor: Actor): Promise<ActionResult> {
      return onProposal(id, async (tx, p) => {
        const refusal = await decide(tx, p, actor, { from: PENDING_STATUSES, to: "ignored", decidedBy: actor, action: "ignored" });
        if (refusal) return refusal;
        return { text: "Ignored.", refresh: [{ groupId: p.group_id }], executions: [] };
      });
    },

    /**
     * A person takes a standard runbook back to manual from its result card: the same as /trust
     * demote to manual, so it is pinned there and the record does not promote it again by itself.
     */
    demote(id: number, actor: Actor): Promise<ActionResult> {
      return onProposal(id, async (tx, p) => {
        const reason = `demoted to manual by ${actor.name} from the card`;
        const change = await setLevel(tx, { runbookId: p.runbook_id, to: "manual", reason, actor, risk: p.risk });
        // To manual, the only refusal left is that it is manual already (the proposal's runbook row exists).
        if ("refused" in change) return none(`${p.runbook_id} is already manual.`);
        await recordProposalDecision(tx, deps.chatId, p, "demoted", actor);
        // Announced in the same transaction: the demotion is never kept without its notice.
        const text = escapeHtml(`⬇️ ${p.runbook_id}: ${change.from} → manual (${reason})`);
        await postCardNotice(tx, { chatId: deps.chatId, groupId: p.group_id, episode: p.episode, text });
        return { text: `${p.runbook_id} is manual again.`, refresh: [{ groupId: p.group_id }], executions: [] };
      });
    },

    /**
     * A button pressed after it expired: what it offered expires too, if it was still pending. The
     * proposal's card (group id), for rendering it again without the keyboard; undefined if it is gone.
     */
    async expire(id: number): Promise<number | undefined> {
      const [expired] = await sql<{ group_id: number }[]>`
        update proposals set status = 'expired' where id = ${id} and status in ${sql(PENDING_STATUSES)} returning group_id`;
      return expired?.group_id ?? (await load(sql, id))?.group_id;
    },

    async silence(groupId: number, episode: number, hours: number, actor: Actor): Promise<ActionResult> {
      if (!deps.alertmanager) return none("No Alertmanager is configured (ALERTMANAGER_URL).", true);
      const alerts = await sql<{ labels: Record<string, string>; alertname: string; fingerprint: string; annotations: Record<string, string> }[]>`
        select labels, alertname, fingerprint, annotations from alerts where group_id = ${groupId} and episode = ${episode} and status = 'firing' order by id`;
      if (alerts.length === 0) return none("Nothing on this card is firing any more.");
      const matchers = silenceMatchers(alerts);
      const startsAt = now();
      const endsAt = new Date(startsAt.getTime() + hours * 3600_000);
      let silenceId: string;
      try {
        silenceId = await deps.alertmanager.createSilence({
          matchers,
          startsAt,
          endsAt,
          createdBy: `${actor.name} (Telegram ${actor.id}) via topicops`,
          comment: `Silenced for ${hours}h from the Telegram card of ${alerts[0]!.alertname}`,
        });
      } catch (error) {
        deps.logger.warn({ err: error }, "could not create a silence");
        return none(`Could not create the silence: ${errorMessage(error)}`, true);
      }
      await sql.begin(async (tx) => {
        await tx`
          insert into silences (chat_id, group_id, episode, alertmanager_id, matchers, starts_at, ends_at, created_by_id, created_by_name)
          values (${deps.chatId}, ${groupId}, ${episode}, ${silenceId}, ${tx.json(matchers as never)}, ${startsAt}, ${endsAt}, ${actor.id}, ${actor.name})`;
        const lead = alerts[0]!;
        await insertDecision(tx, {
          chatId: deps.chatId,
          groupId,
          episode,
          alertname: lead.alertname,
          labels: lead.labels,
          summary: lead.annotations.summary ?? null,
          action: "silenced",
          actor,
          params: { hours: String(hours), silence: silenceId },
        });
      });
      return { text: `Silenced for ${hours}h (until ${formatTime(endsAt)}).`, refresh: [{ groupId }], executions: [] };
    },

    async unsilence(silenceRowId: number, actor: Actor): Promise<ActionResult> {
      const [s] = await sql<{ id: number; group_id: number; episode: number; alertmanager_id: string; status: string }[]>`
        select id, group_id, episode, alertmanager_id, status from silences where id = ${silenceRowId}`;
      if (!s || s.status !== "active") return none("That silence is over already.");
      if (!deps.alertmanager) return none("No Alertmanager is configured (ALERTMANAGER_URL).", true);
      try {
        await deps.alertmanager.expireSilence(s.alertmanager_id);
      } catch (error) {
        return none(`Could not expire the silence: ${errorMessage(error)}`, true);
      }
      const changed = await sql.begin(async (tx) => {
        const rows = await tx`
          update silences set status = 'expired', expired_by_id = ${actor.id}, expired_by_name = ${actor.name}, expired_at = now()
          where id = ${s.id} and status = 'active' returning id`;
        if (rows.length === 0) return false;
        const [a] = await tx<{ alertname: string; labels: Record<string, string> }[]>`
          select alertname, labels from alerts where group_id = ${s.group_id} and episode = ${s.episode} order by id limit 1`;
        await insertDecision(tx, {
          chatId: deps.chatId,
          groupId: s.group_id,
          episode: s.episode,
          alertname: a?.alertname ?? "?",
          labels: a?.labels ?? {},
          action: "unsilenced",
          actor,
          params: { silence: s.alertmanager_id },
        });
        return true;
      });
      return changed ? { text: "Silence lifted.", refresh: [{ groupId: s.group_id }], executions: [] } : none("That silence is over already.");
    },
  };
}

export type DecisionActions = ReturnType<typeof createDecisionActions>;
