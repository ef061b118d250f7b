import type { Sql, Tx } from "../db/client.ts";
import { decisionDocument, type AlertLike } from "./documents.ts";
import { embedAlertQuery, type AlertQuery } from "./match.ts";
import type { Embedder } from "./search/embedder.ts";
import { encodeDocument } from "./search/sparse.ts";
import { searchDocHash, upsertSearchDocs } from "./search-docs.ts";
import type { VectorIndex } from "./search/vector-index.ts";

const DECISION_DOC_PREFIX = "decision:";
export const decisionDocId = (id: number) => `${DECISION_DOC_PREFIX}${id}`;

/** What people did with earlier proposals: the words a card uses for it. */
const actionWords: Record<string, string> = {
  approved: "was approved",
  auto: "ran on its own",
  ignored: "was ignored",
  silenced: "was silenced instead",
};

/** The decision search found: what a card keeps (in `card_matches`) until the library changes. */
export interface LastTime {
  decisionId: number;
  runbookId: string | null;
  action: string;
  outcome: string | null;
  at: Date;
  similarity: number;
}

/**
 * The same, as a card shows it: the runbook's title now, and the sentence. Cards cached before
 * these two were left out of LastTime still hold them (null and ""); showing one sets them again.
 */
export interface DescribedLastTime extends LastTime {
  runbookTitle: string | null;
  /** "restart radarr was approved (Nov 18)" without the markup. */
  text: string;
}

export interface TrackRecord {
  approved: number;
  succeeded: number;
  failed: number;
  lastUsed: Date | null;
}

/**
 * Decisions are searchable like runbooks: each is embedded with the alert it was about, so a card
 * can say what was done the last time something like it fired.
 */
export async function indexDecision(deps: { sql: Sql; embedder: Embedder; index: VectorIndex }, decisionId: number): Promise<void> {
  const [d] = await deps.sql<DecisionRow[]>`
    select d.id, d.alertname, d.labels, d.summary, d.runbook_id, r.title as runbook_title, d.action, d.outcome, d.created_at
    from decisions d left join runbooks r on r.id = d.runbook_id where d.id = ${decisionId}`;
  if (!d) return;
  const text = decisionDocument({ alertname: d.alertname, labels: d.labels, summary: d.summary, runbookTitle: d.runbook_title, action: d.action });
  const hash = searchDocHash(`${text}\n${d.outcome ?? ""}`, deps.embedder);
  const dense = await deps.embedder.embedQuery(text);
  const sparse = encodeDocument(text);
  const payload = {
    kind: "decision",
    hash,
    decision_id: d.id,
    alertname: d.alertname,
    runbook_id: d.runbook_id ?? "",
    action: d.action,
    outcome: d.outcome ?? "",
    at: d.created_at.toISOString(),
  };
  const doc = { id: decisionDocId(d.id), dense, sparse, payload };
  await upsertSearchDocs(deps.sql, deps.embedder, [doc]);
  await deps.index.upsert([doc]);
}

/**
 * Decisions whose search doc is not what indexDecision would write now: missing (just made),
 * embedded by another embedder, or saying another outcome (a run's outcome is set when it ends,
 * usually after its approval was indexed). The stored outcome is compared rather than the times:
 * an outcome set while a decision was being embedded would be older than the doc that lacks it.
 */
export async function pendingDecisions(sql: Sql, embedder: Pick<Embedder, "name">, limit: number): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    select d.id from decisions d left join search_docs s on s.id = ${DECISION_DOC_PREFIX} || d.id
    where s.id is null or s.embedder <> ${embedder.name}
       or (d.outcome is not null and s.payload->>'outcome' is distinct from d.outcome)
    order by d.id limit ${limit}`;
  return rows.map((r) => r.id);
}

/**
 * The most recent decision about an alert like this one: the same alert name, or a description
 * similar enough (`minSimilarity`). Only decisions that did something count (approved, ran, …).
 */
export async function lastTime(
  deps: { embedder: Embedder; index: VectorIndex },
  alert: AlertLike,
  options: { minSimilarity: number },
  /** The alert embedded already (`embedAlertQuery` of it, the name included). */
  query?: AlertQuery,
): Promise<LastTime | undefined> {
  const { dense, sparse } = query ?? (await embedAlertQuery(deps.embedder, alert));
  const hits = await deps.index.query({
    dense,
    sparse,
    limit: 20,
    filter: { kind: "decision", action: Object.keys(actionWords) },
  });
  const close = hits.filter((h) => h.payload.alertname === alert.alertname || h.similarity >= options.minSimilarity);
  close.sort((a, b) => String(b.payload.at).localeCompare(String(a.payload.at)));
  const best = close[0];
  if (!best) return undefined;
  return {
    decisionId: Number(best.payload.decision_id),
    runbookId: (best.payload.runbook_id as string) || null,
    action: String(best.payload.action),
    outcome: (best.payload.outcome as string) || null,
    at: new Date(String(best.payload.at)),
    similarity: best.similarity,
  };
}

export function describeLastTime(last: LastTime, runbookTitle: string | null): DescribedLastTime {
  const what = runbookTitle ?? last.runbookId ?? "the proposed runbook";
  const outcome = last.outcome === "failed" ? ", and failed" : last.outcome === "succeeded" ? " and worked" : "";
  return { ...last, runbookTitle, text: `${what} ${actionWords[last.action] ?? last.action}${outcome} (${shortDate(last.at)})` };
}

/** A date as cards write it: "Nov 18" (UTC). */
export function shortDate(date: Date): string {
  return `${date.toLocaleString("en-US", { month: "short", timeZone: "UTC" })} ${date.getUTCDate()}`;
}

/**
 * Runs / succeeded / failed / last used per runbook, straight from the executions it led to
 * ("approved" counts every run a person approved or the ladder started).
 */
export async function trackRecords(sql: Tx, runbookIds: string[]): Promise<Map<string, TrackRecord>> {
  const out = new Map<string, TrackRecord>();
  if (runbookIds.length === 0) return out;
  const rows = await sql<{ runbook_id: string; approved: number; succeeded: number; failed: number; last_used: Date | null }[]>`
    select runbook_id,
           count(*)::int as approved,
           count(*) filter (where status = 'succeeded')::int as succeeded,
           count(*) filter (where status = 'failed')::int as failed,
           max(queued_at) as last_used
    from executions where runbook_id in ${sql(runbookIds)} group by runbook_id`;
  for (const r of rows) out.set(r.runbook_id, { approved: r.approved, succeeded: r.succeeded, failed: r.failed, lastUsed: r.last_used });
  return out;
}

interface DecisionRow {
  id: number;
  alertname: string;
  labels: Record<string, string>;
  summary: string | null;
  runbook_id: string | null;
  runbook_title: string | null;
  action: string;
  outcome: string | null;
  created_at: Date;
}
