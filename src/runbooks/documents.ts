import type { Runbook } from "./types.ts";

/**
 * What gets embedded. Changing how a document is built changes every hash (via this version), so
 * the index re-embeds everything once instead of mixing two formats.
 */
export const DOCUMENT_FORMAT = "doc-v1";

/** nomic-embed-text reads 8,192 tokens; a runbook's first pages say what it is about. */
const MAX_DOC_CHARS = 12_000;

/**
 * The one label whose value says what is wrong rather than where (`CrashLoopBackOff`,
 * `OOMKilled`, `ImagePullBackOff`). The others (severity, job, container, namespace …) are mostly
 * the monitoring stack's plumbing: measured on alerts rendered from the kube-prometheus rules
 * (`npm run bench -- retrieval`), adding them pulled unrelated pages onto a third of the cards
 * and cost recall when the alert name is left out.
 */
const telling = new Set(["reason"]);

export function runbookDocument(runbook: Runbook): string {
  const parts = [runbook.title, ...runbook.aliases];
  if (runbook.match) {
    parts.push(...runbook.match.alerts);
    parts.push(...runbook.match.labels.map((m) => `${m.name} ${m.value}`));
  }
  parts.push(stripMarkdown(runbook.body));
  return parts.join("\n").slice(0, MAX_DOC_CHARS);
}

export interface AlertLike {
  alertname: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/**
 * The search query for an alert: its name, summary and description, and the value of the telling
 * label. `includeName: false` leaves the alert name out, which is how the benchmark asks "would it
 * still be found by what it says?".
 */
export function alertQuery(alert: AlertLike, options: { includeName?: boolean } = {}): string {
  const includeName = options.includeName ?? true;
  const parts: string[] = [];
  if (includeName) parts.push(alert.alertname);
  for (const key of ["summary", "description", "message"]) {
    const value = alert.annotations[key];
    if (value) parts.push(value);
  }
  for (const name of telling) {
    const value = alert.labels[name];
    if (value) parts.push(value);
  }
  return parts.join("\n");
}

export interface DecisionLike {
  alertname: string;
  labels: Record<string, string>;
  summary: string | null;
  runbookTitle: string | null;
  action: string;
}

export function decisionDocument(decision: DecisionLike): string {
  return [
    alertQuery({ alertname: decision.alertname, labels: decision.labels, annotations: decision.summary ? { summary: decision.summary } : {} }),
    decision.runbookTitle ?? "",
    decision.action,
  ]
    .filter(Boolean)
    .join("\n");
}

/** Markdown syntax is not meaning: links keep their text, code keeps its words. */
export function stripMarkdown(markdown: string): string {
  return markdown
    .replace(/```[a-z]*\n?/gi, "")
    .replace(/!\[[^\]]*\]\([^)]*\)/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, " ")
    .replace(/^#{1,6}\s+/gm, "")
    .replace(/[*_`>|]/g, " ")
    .replace(/[ \t]+/g, " ")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
