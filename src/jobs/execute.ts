import type { Executor, ExecutionResult, StepResult } from "../agent/index.ts";
import type { Sql } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import type { RunbookService } from "../runbooks/service.ts";
import type { Runbook } from "../runbooks/types.ts";
import { alertCardOf, postCardNotice, updateNotice } from "../telegram/outbox/cards.ts";
import { bold, escapeHtml, truncate } from "../telegram/render/html.ts";
import type { TrustThresholds } from "../trust/policy.ts";
import { applyTrust, type LevelChange } from "../trust/service.ts";
import { enqueueRefresh, type Queues } from "./queues.ts";

export interface ExecuteDeps {
  sql: Sql;
  chatId: number;
  executor: Executor;
  runbooks: () => RunbookService | undefined;
  queues: Queues;
  thresholds: TrustThresholds;
  logger: Logger;
}

interface ExecutionRow {
  id: number;
  proposal_id: number;
  runbook_id: string;
  params: Record<string, string>;
  trigger: "approved" | "auto";
  level: string;
  group_id: number;
  episode: number;
  fingerprint: string;
  status: string;
  progress_card_id: number | null;
}

const icons: Record<string, string> = { succeeded: "✅", failed: "❌", skipped: "⏭", running: "▶️" };

/**
 * One approved (or unattended) run. It is claimed by a conditional update from `queued`, so a
 * redelivered job never runs the steps twice; a run found `running` was cut off by a crash and is
 * marked interrupted, not repeated — a person decides what to do. Progress is one message in the
 * card's topic, edited as steps finish (the outbox keeps that within Telegram's limits).
 */
export function createExecuteProcessor(deps: ExecuteDeps) {
  const { sql, logger } = deps;

  return async function execute(executionId: number): Promise<{ status: string }> {
    const [claimed] = await sql<ExecutionRow[]>`
      update executions set status = 'running', started_at = now() where id = ${executionId} and status = 'queued' returning *`;
    if (!claimed) {
      const [row] = await sql<ExecutionRow[]>`select * from executions where id = ${executionId}`;
      if (row?.status === "running") {
        // The process running it died part-way. Running the steps again could do twice what must
        // happen once; say so and leave it to a person.
        await sql`
          update executions set status = 'interrupted', finished_at = now(), error = 'the worker stopped while it ran; not run again'
          where id = ${executionId} and status = 'running'`;
        if (row.progress_card_id) {
          await updateNotice(sql, row.progress_card_id, `⚠️ ${bold(row.runbook_id)} was interrupted: the worker running it stopped. It was not run again; check what it did by hand.`);
        }
        await enqueueRefresh(deps.queues, [row.group_id], `interrupted-${executionId}`);
        logger.warn({ executionId }, "run was interrupted by a crash; marked, not repeated");
        return { status: "interrupted" };
      }
      return { status: row?.status ?? "missing" };
    }

    const runbook = deps.runbooks()?.library().byId(claimed.runbook_id);
    const who = claimed.trigger === "auto" ? "on its own (standard)" : await approvers(claimed.proposal_id);
    const card = await alertCardOf(sql, claimed.group_id, claimed.episode);
    const progressCardId = await postCardNotice(sql, {
      chatId: deps.chatId,
      card,
      text: `▶️ Running ${bold(runbook?.title ?? claimed.runbook_id)} ${escapeHtml(who)}…`,
    });
    await sql`update executions set progress_card_id = ${progressCardId} where id = ${executionId}`;

    let result: ExecutionResult;
    if (!runbook || runbook.kind !== "runbook") {
      result = { status: "failed", steps: [], durationMs: 0, error: `runbook ${claimed.runbook_id} is not in the library (any more)` };
    } else {
      const done: StepResult[] = [];
      const show = (current?: string) => updateNotice(sql, progressCardId, progressText(runbook, who, done, current, undefined));
      result = await deps.executor.execute(
        { runbook, values: claimed.params },
        {
          onStepStart: (index, step) => show(`${index + 1}/${runbook.steps.length} ${step.name ?? step.type}`),
          onStepEnd: async (step) => {
            done.push(step);
            await show();
          },
        },
      );
    }

    const outcome = result.status === "succeeded" ? "succeeded" : "failed";
    await sql.begin(async (tx) => {
      await tx`
        update executions set status = ${result.status === "cancelled" ? "cancelled" : outcome}, steps = ${tx.json(result.steps as never)},
               error = ${result.error ?? null}, finished_at = now()
        where id = ${executionId}`;
      await tx`
        update decisions set outcome = ${outcome}, outcome_at = now(), execution_id = ${executionId}
        where proposal_id = ${claimed.proposal_id} and action in ('approved', 'confirmed', 'auto')`;
      const trust = runbook && result.status !== "cancelled" ? await applyTrust(tx, runbook.id, runbook.risk, deps.thresholds, executionId) : undefined;
      await updateNotice(tx, progressCardId, progressText(runbook, who, result.steps, undefined, result));
      // Announced in the same transaction as the change, so a level never moves unannounced.
      if (runbook && trust?.change) await postCardNotice(tx, { chatId: deps.chatId, card, text: levelChangeText(runbook.title, trust.change) });
    });
    await enqueueRefresh(deps.queues, [claimed.group_id], `ran-${executionId}`);
    // What was decided, and how it went, becomes searchable ("last time this fired …") off the
    // run's slot: the sweep indexes the decision with its outcome within half a minute.
    logger.info({ executionId, runbook: claimed.runbook_id, status: result.status, ms: result.durationMs }, "run finished");
    return { status: result.status };
  };

  async function approvers(proposalId: number): Promise<string> {
    const rows = await sql<{ actor_name: string }[]>`
      select distinct actor_name from decisions where proposal_id = ${proposalId} and action in ('approved', 'confirmed') and actor_name is not null`;
    return rows.length > 0 ? `(approved by ${rows.map((r) => r.actor_name).join(" and ")})` : "";
  }
}

function levelChangeText(title: string, change: LevelChange): string {
  const arrow = change.to === "manual" || (change.from === "standard" && change.to === "prompted") ? "⬇️" : "⬆️";
  return `${arrow} ${bold(title)}: ${change.from} → ${change.to}. ${escapeHtml(change.reason)}`;
}

/** The progress message: each finished step with its one-line summary, then the outcome and trimmed output. */
export function progressText(runbook: Runbook | undefined, who: string, steps: readonly StepResult[], current: string | undefined, result: ExecutionResult | undefined): string {
  const title = bold(truncate(runbook?.title ?? "runbook", 100));
  const head = result
    ? `${result.status === "succeeded" ? "✅" : result.status === "cancelled" ? "⏹" : "❌"} ${title} ${result.status} in ${seconds(result.durationMs)} ${escapeHtml(who)}`
    : `▶️ Running ${title} ${escapeHtml(who)}`;
  const lines = [head];
  for (const s of steps) {
    lines.push(`${icons[s.status] ?? "•"} ${s.index + 1}. ${escapeHtml(truncate(s.summary, 200))}${s.error ? ` — ${escapeHtml(truncate(s.error, 200))}` : ""}`);
  }
  if (current) lines.push(`⏳ ${escapeHtml(current)}`);
  if (result?.error && !steps.some((s) => s.error)) lines.push(`❗ ${escapeHtml(truncate(result.error, 300))}`);
  if (result) {
    // The failed step's output says why; after a success, what the commands printed says what they did.
    const withOutput = steps.filter((s) => s.output.trim() !== "");
    const last =
      withOutput.find((s) => s.status === "failed") ?? [...withOutput].reverse().find((s) => s.type === "run") ?? withOutput.at(-1);
    // The budget keeps the whole message under Telegram's 4,096 characters.
    const budget = Math.max(0, 3500 - lines.join("\n").length);
    if (last && budget > 100) lines.push(`<pre>${escapedWithin(last.output.trim(), budget)}</pre>`);
  }
  return lines.join("\n");
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

/** The text escaped for HTML in at most `max` characters (escaping lengthens it, so cut first, then check). */
function escapedWithin(text: string, max: number): string {
  let cut = max;
  for (;;) {
    const escaped = escapeHtml(truncate(text, cut));
    if (escaped.length <= max || cut < 50) return escaped.slice(0, max).replace(/&[a-z]*$/, "");
    cut = Math.floor(cut * 0.8);
  }
}
