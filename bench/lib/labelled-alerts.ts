import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AlertLike } from "../../src/runbooks/documents.ts";
import { repoRoot } from "./process.ts";

/**
 * bench/data/alert-rules.json: alerts rendered from real alerting rules, each with the runbooks a
 * person would accept as its answer. How they were rendered and judged is in the file's `notes`.
 */
export const labelledAlertsFile = join(repoRoot, "bench", "data", "alert-rules.json");

/**
 * `corpus`: a page in the corpus is written for it. `ours`: no page anywhere, one of our runbooks
 * fits. `sibling`: no page of its own, its twin's page is the same procedure. `negative`: nothing
 * in the library fits.
 */
export type AlertGroup = "corpus" | "ours" | "sibling" | "negative";
const groups: readonly AlertGroup[] = ["corpus", "ours", "sibling", "negative"];

export interface RuleSource {
  repo: string;
  path: string;
  commit: string | null;
  note?: string;
}

export interface LabelledAlert {
  id: string;
  group: AlertGroup;
  alertname: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  source: RuleSource;
  /** Runbook ids counted as right answers; empty for a negative. */
  relevant: string[];
  /** Pages about a neighbouring alert: counted only by the lenient recall. */
  related?: string[];
  upstreamRunbook?: string;
  why?: string;
}

export interface LabelledSet {
  notes: Record<string, string>;
  alerts: LabelledAlert[];
}

const isStringMap = (v: unknown): v is Record<string, string> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/**
 * Reads and checks the file. A malformed entry throws with its id: a silently skipped alert would
 * shift every rate the benchmark reports.
 */
export function loadLabelledAlerts(file = labelledAlertsFile): LabelledSet {
  const raw = JSON.parse(readFileSync(file, "utf8")) as { notes?: unknown; alerts?: unknown };
  if (!isStringMap(raw.notes) || !Array.isArray(raw.alerts)) throw new Error(`${file}: expected { notes: {…}, alerts: […] }`);
  const seen = new Set<string>();
  const alerts = raw.alerts.map((entry: unknown, i): LabelledAlert => {
    const a = entry as Partial<LabelledAlert>;
    const where = `${file}: alert ${typeof a.id === "string" ? a.id : `#${i}`}`;
    if (typeof a.id !== "string" || typeof a.alertname !== "string") throw new Error(`${where}: id and alertname must be strings`);
    if (seen.has(a.id)) throw new Error(`${where}: duplicate id`);
    seen.add(a.id);
    if (!groups.includes(a.group as AlertGroup)) throw new Error(`${where}: group must be one of ${groups.join(", ")}`);
    if (!isStringMap(a.labels) || !isStringMap(a.annotations)) throw new Error(`${where}: labels and annotations must map strings to strings`);
    if (!isStringList(a.relevant) || (a.related !== undefined && !isStringList(a.related))) throw new Error(`${where}: relevant/related must be lists of ids`);
    if ((a.group === "negative") !== (a.relevant.length === 0)) throw new Error(`${where}: negatives, and only negatives, have no relevant runbook`);
    if (typeof a.source?.repo !== "string" || typeof a.source.path !== "string") throw new Error(`${where}: source needs repo and path`);
    return a as LabelledAlert;
  });
  return { notes: raw.notes, alerts };
}

/** The alert as matching sees it (what the Alertmanager parser would make of the same alert). */
export function toAlertLike(alert: LabelledAlert): AlertLike {
  return { alertname: alert.alertname, labels: { ...alert.labels, alertname: alert.alertname }, annotations: alert.annotations };
}
