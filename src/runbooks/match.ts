import { alertQuery, type AlertLike } from "./documents.ts";
import type { Embedder } from "./search/embedder.ts";
import { encodeQuery } from "./search/sparse.ts";
import { splitWords, stem, stopWords, tokenize } from "./search/text.ts";
import type { VectorIndex } from "./search/vector-index.ts";
import { matchesAlert } from "./format.ts";
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
   * How similar candidates are ordered: by the hybrid (RRF) rank, or by the cosine similarity the
   * card shows. The benchmark measures both.
   */
  order?: "fused" | "similarity";
}

export interface MatchDeps {
  library: RunbookLibrary;
  index: VectorIndex;
  embedder: Embedder;
}

/** Alert names and runbook names compared without case or separators: `KubePodCrashLooping` = `kube-pod-crash-looping`. */
const normalName = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

/**
 * The runbooks for an alert, best first: explicit match rules, then runbooks named after the
 * alert, then the most similar by hybrid search above a similarity floor. Each says why.
 */
export async function matchRunbooks(deps: MatchDeps, alert: AlertLike, options: MatchOptions): Promise<RunbookMatch[]> {
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
    const labels = { ...alert.labels, alertname: alert.alertname };
    for (const rb of deps.library.runbooks.filter((r) => matchesAlert(r.match, labels))) {
      add({ runbookId: rb.id, title: rb.title, kind: rb.kind, score: 1, via: "rule", reason: ruleReason(rb, alert.alertname) });
    }
    const name = normalName(alert.alertname);
    for (const rb of deps.library.runbooks) {
      if ([rb.id, rb.title, ...rb.aliases].some((n) => normalName(n) === name)) {
        add({ runbookId: rb.id, title: rb.title, kind: rb.kind, score: 0.95, via: "name", reason: `named after ${alert.alertname}` });
      }
    }
  }
  if (found.length >= limit) return found;

  const query = alertQuery(alert, { includeName });
  const [dense] = [await deps.embedder.embedQuery(query)];
  const hits = await deps.index.query({ dense, sparse: encodeQuery(query), limit: limit + seen.size + 2, filter: { kind: "runbook" } });
  if ((options.order ?? "fused") === "similarity") hits.sort((a, b) => b.similarity - a.similarity || a.id.localeCompare(b.id));
  for (const hit of hits) {
    if (hit.similarity < options.minSimilarity) continue;
    const rb = deps.library.byId(String(hit.payload.runbook_id));
    if (!rb) continue;
    const shared = sharedWords(query, rb);
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
  if (rb.match && rb.match.labels.length > 0) parts.push(`labels ${rb.match.labels.map((m) => `${m.name}${m.op}"${m.value}"`).join(", ")}`);
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
