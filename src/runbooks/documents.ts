import type { Runbook } from "./types.ts";

/**
 * What gets embedded. Changing how a document is built changes every hash (via this version), so
 * the index re-embeds everything once instead of mixing two formats.
 */
export const DOCUMENT_FORMAT = "doc-v1";

/** nomic-embed-text reads 8,192 tokens; a runbook's first pages say what it is about. */
const MAX_DOC_CHARS = 12_000;

/** Label names worth their value in a query: they say what is affected, not which replica. */
const telling = new Set([
  "namespace",
  "job",
  "service",
  "container",
  "reason",
  "fstype",
  "mountpoint",
  "phase",
  "condition",
  "resource",
  "severity",
  "workload",
  "deployment",
  "statefulset",
  "daemonset",
  "cronjob",
  "persistentvolumeclaim",
  "integration",
]);
/** Plumbing of the monitoring stack: never about the problem. */
const noise = new Set(["prometheus", "endpoint", "metrics_path", "uid", "instance", "pod", "__name__", "receive", "tenant_id"]);

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
 * The search query for an alert: its name, summary and description, the names of its labels and
 * the values of the telling ones. `includeName: false` leaves the alert name out (and the labels
 * that repeat it), which is how the benchmark asks "would it still be found by what it says?".
 */
export function alertQuery(alert: AlertLike, options: { includeName?: boolean } = {}): string {
  const includeName = options.includeName ?? true;
  const parts: string[] = [];
  if (includeName) parts.push(alert.alertname);
  for (const key of ["summary", "description", "message"]) {
    const value = alert.annotations[key];
    if (value) parts.push(value);
  }
  const labelWords: string[] = [];
  for (const [name, value] of Object.entries(alert.labels).sort(([a], [b]) => a.localeCompare(b))) {
    if (name === "alertname" || noise.has(name)) continue;
    labelWords.push(telling.has(name) ? `${name} ${value}` : name);
  }
  if (labelWords.length > 0) parts.push(labelWords.join(" "));
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
