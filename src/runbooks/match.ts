import { formatMatcher } from "../util/matchers.ts";
import { alertQuery, type AlertLike } from "./documents.ts";
import { matchesAlert } from "./format.ts";
import type { Embedder } from "./search/embedder.ts";
import { encodeQuery } from "./search/sparse.ts";
import { splitWords, stem, stopWords, tokenize } from "./search/text.ts";
import type { Hit, SparseVector, VectorIndex } from "./search/vector-index.ts";
import type { Runbook, RunbookLibrary } from "./types.ts";

export type MatchVia = "rule" | "name" | "similar";

export interface RunbookMatch {
  runbookId: string;
  title: string;
  kind: "runbook" | "page";
  /** 1 for a match rule, 0.95 for a runbook named after the alert, else the cosine similarity. */
  score: number;
  via: MatchVia;
  /** Why, in words a person reads on the card. */
  reason: string;
}

export interface MatchOptions {
  limit?: number;
  /** Below this cosine similarity a candidate is noise, and the card says "no runbook" instead. */
  minSimilarity: number;
  /** Leave the alert name out of the query (the benchmark's harder question). */
  includeName?: boolean;
  /**
   * Which similar candidates make the cut: by the hybrid (RRF) rank, or by the cosine similarity
   * the card shows. Measured (`npm run bench -- retrieval`): hybrid rank finds the right runbook
   * first more often (82 % against 75 % with the alert name left out). Either way the chosen ones
   * are shown best score first.
   */
  order?: "fused" | "similarity";
}

export interface MatchDeps {
  library: RunbookLibrary;
  index: VectorIndex;
  embedder: Embedder;
}

/** An alert's search query, embedded: what both the runbook and the decision searches ask with. */
export interface AlertQuery {
  text: string;
  dense: number[];
  sparse: SparseVector;
}

export async function embedAlertQuery(embedder: Embedder, alert: AlertLike, options: { includeName?: boolean } = {}): Promise<AlertQuery> {
  const text = alertQuery(alert, options);
  return { text, dense: await embedder.embedQuery(text), sparse: encodeQuery(text) };
}

/** Candidates asked of the index, whatever the limit: the same search behind a 3-line card and a 10-line list. */
const CANDIDATES = 10;

/** Alert names and runbook names compared without case or separators: `KubePodCrashLooping` = `kube-pod-crash-looping`. */
const normalName = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

interface Lookups {
  byAlert: Map<string, Runbook[]>;
  labelOnly: Runbook[];
  byName: Map<string, Runbook[]>;
}

/** Built once per loaded library, so a match does not scan every runbook (it did: 9 ms of 25 at 10,000). */
const lookups = new WeakMap<RunbookLibrary, Lookups>();

function lookupsFor(library: RunbookLibrary): Lookups {
  let found = lookups.get(library);
  if (found) return found;
  found = { byAlert: new Map(), labelOnly: [], byName: new Map() };
  const push = (map: Map<string, Runbook[]>, key: string, rb: Runbook) => {
    const list = map.get(key) ?? [];
    if (!list.includes(rb)) list.push(rb);
    map.set(key, list);
  };
  for (const rb of library.runbooks) {
    if (rb.match && rb.match.alerts.length > 0) for (const a of rb.match.alerts) push(found.byAlert, a, rb);
    else if (rb.match && rb.match.labels.length > 0) found.labelOnly.push(rb);
    for (const n of [rb.id, rb.title, ...rb.aliases]) push(found.byName, normalName(n), rb);
  }
  lookups.set(library, found);
  return found;
}

/**
 * The runbooks for an alert, best first: explicit match rules, then runbooks named after the
 * alert, then the most similar by hybrid search above a similarity floor. Each says why. When
 * read-only pages would fill every place, the best runnable runbook found by similarity takes the
 * last one: a card should offer something it can run if there is anything. `query`, when the
 * caller has embedded the alert already, must be `embedAlertQuery` of it with the same `includeName`.
 */
export async function matchRunbooks(deps: MatchDeps, alert: AlertLike, options: MatchOptions, query?: AlertQuery): Promise<RunbookMatch[]> {
  const limit = options.limit ?? 3;
  const includeName = options.includeName ?? true;
  const found: RunbookMatch[] = [];
  const seen = new Set<string>();
  const add = (m: RunbookMatch) => {
    if (seen.has(m.runbookId) || found.length >= limit) return;
    seen.add(m.runbookId);
    found.push(m);
  };

  if (includeName) {
    const l = lookupsFor(deps.library);
    const labels = { ...alert.labels, alertname: alert.alertname };
    for (const rb of [...(l.byAlert.get(alert.alertname) ?? []), ...l.labelOnly].sort((a, b) => a.id.localeCompare(b.id))) {
      if (matchesAlert(rb.match, labels)) add({ runbookId: rb.id, title: rb.title, kind: rb.kind, score: 1, via: "rule", reason: ruleReason(rb, alert.alertname) });
    }
    for (const rb of l.byName.get(normalName(alert.alertname)) ?? []) {
      add({ runbookId: rb.id, title: rb.title, kind: rb.kind, score: 0.95, via: "name", reason: `named after ${alert.alertname}` });
    }
  }
  if (found.length >= limit) return found;

  const { text, dense, sparse } = query ?? (await embedAlertQuery(deps.embedder, alert, { includeName }));
  const hits = await deps.index.query({ dense, sparse, limit: CANDIDATES, filter: { kind: "runbook" } });
  if ((options.order ?? "fused") === "similarity") hits.sort((a, b) => b.similarity - a.similarity || a.id.localeCompare(b.id));
  const candidates = hits
    .filter((h) => h.similarity >= options.minSimilarity && !seen.has(String(h.payload.runbook_id)))
    .map((h) => ({ hit: h, rb: deps.library.byId(String(h.payload.runbook_id)) }))
    .filter((c): c is { hit: Hit; rb: Runbook } => c.rb !== undefined);

  const room = limit - found.length;
  let picked = candidates.slice(0, room);
  const runnable = (rb: Runbook) => rb.kind === "runbook";
  if (![...found.map((f) => f.kind), ...picked.map((c) => c.rb.kind)].includes("runbook")) {
    const best = candidates.slice(room).find((c) => runnable(c.rb));
    if (best && picked.length > 0) picked = [...picked.slice(0, -1), best];
  }
  picked.sort((a, b) => b.hit.similarity - a.hit.similarity || a.rb.id.localeCompare(b.rb.id));
  for (const { hit, rb } of picked) {
    const shared = sharedWords(text, rb);
    add({
      runbookId: rb.id,
      title: rb.title,
      kind: rb.kind,
      score: round(hit.similarity),
      via: "similar",
      reason: shared.length > 0 ? `similar: ${shared.join(", ")}` : "similar wording",
    });
  }
  return found;
}

function ruleReason(rb: Runbook, alertname: string): string {
  const parts: string[] = [];
  if (rb.match?.alerts.includes(alertname)) parts.push(`written for ${alertname}`);
  if (rb.match && rb.match.labels.length > 0) parts.push(`labels ${rb.match.labels.map(formatMatcher).join(", ")}`);
  return parts.join("; ");
}

/**
 * The query's words (as the alert wrote them) whose stems also stand in the runbook's title or
 * rules first, then its body: what a person recognises as the reason for the suggestion.
 */
function sharedWords(query: string, rb: Runbook): string[] {
  const head = new Set(tokenize([rb.title, ...rb.aliases, ...(rb.match?.alerts ?? [])].join(" ")));
  const body = new Set(tokenize(rb.body.slice(0, 4000)));
  const words = [...new Set(splitWords(query))].filter((w) => w.length >= 3 && !stopWords.has(w) && !/^\d+$/.test(w));
  const inHead = words.filter((w) => head.has(stem(w)));
  const inBody = words.filter((w) => !head.has(stem(w)) && body.has(stem(w)));
  return [...inHead, ...inBody].slice(0, 4);
}

const round = (n: number) => Math.round(n * 100) / 100;
