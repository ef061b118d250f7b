import type { CardSummary } from "../../db/schema.ts";
import {
  TELEGRAM_TEXT_LIMIT,
  bold,
  code,
  escapeHtml,
  formatDuration,
  formatLabels,
  formatTime,
  italic,
  link,
  safeUrl,
  truncate,
} from "./html.ts";

export interface CardAlert {
  fingerprint: string;
  alertname: string;
  severity: string | null;
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: Date;
  endsAt: Date | null;
  generatorUrl: string | null;
}

export interface CardGroup {
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalUrl: string | null;
  truncatedAlerts: number;
}

export interface RenderedCard {
  text: string;
  status: "firing" | "resolved";
  severity: string | null;
  summary: CardSummary;
}

/** Extra sections later features put on a card (runbook suggestions, decisions…), already HTML. */
export interface CardSection {
  html: string;
}

const severityRank: Record<string, number> = { critical: 0, page: 0, high: 1, error: 1, warning: 2, medium: 2, info: 3, low: 3, none: 4 };
export const rankOf = (severity: string | null) => (severity === null ? 4 : (severityRank[severity] ?? 3));

/** The dot a firing alert (or a rollup line with firing groups) shows for its severity. */
export const firingIcon = (severity: string | null) => ["🔴", "🟠", "🟠", "🔵", "⚪"][rankOf(severity)] ?? "⚪";

/** Labels that say which instance of a problem this is, most telling first. */
const identifyingLabels = [
  "pod",
  "container",
  "deployment",
  "statefulset",
  "daemonset",
  "job_name",
  "cronjob",
  "persistentvolumeclaim",
  "node",
  "instance",
  "host",
  "mountpoint",
  "device",
  "service",
  "job",
  "namespace",
];
/** Labels that never help a person: plumbing of the monitoring stack itself. */
const noiseLabels = new Set(["prometheus", "endpoint", "metrics_path", "uid", "__name__", "receive", "tenant_id"]);

export function mostSevere(alerts: readonly { severity: string | null }[]): string | null {
  let best: string | null = null;
  for (const a of alerts) if (best === null || rankOf(a.severity) < rankOf(best)) best = a.severity;
  return best;
}

/** The alert a card (and its routing) is about: the most severe firing one, then the earliest. */
export function leadAlert<T extends CardAlert>(alerts: readonly T[]): T | undefined {
  return [...alerts].sort(compareAlerts)[0];
}

function compareAlerts(a: CardAlert, b: CardAlert): number {
  if (a.status !== b.status) return a.status === "firing" ? -1 : 1;
  if (a.status === "firing") {
    const bySeverity = rankOf(a.severity) - rankOf(b.severity);
    if (bySeverity !== 0) return bySeverity;
    return a.startsAt.getTime() - b.startsAt.getTime() || a.fingerprint.localeCompare(b.fingerprint);
  }
  return (b.endsAt?.getTime() ?? 0) - (a.endsAt?.getTime() ?? 0) || a.fingerprint.localeCompare(b.fingerprint);
}

/**
 * One card for one alert group episode. Deterministic: the same stored state renders the same
 * text (no "n minutes ago"), so a redelivered notification changes nothing visible. Always fits
 * Telegram's limit: whole alert entries are left out and counted instead, never cut mid-tag.
 */
export function renderAlertCard(group: CardGroup, alertList: readonly CardAlert[], sections: readonly CardSection[] = []): RenderedCard {
  const alerts = [...alertList].sort(compareAlerts);
  const firing = alerts.filter((a) => a.status === "firing");
  const resolved = alerts.filter((a) => a.status === "resolved");
  const status: "firing" | "resolved" = firing.length > 0 ? "firing" : "resolved";
  const severity = mostSevere(firing.length > 0 ? firing : alerts);
  const names = [...new Set(alerts.map((a) => a.alertname))];
  const lead = alerts[0];

  // One name: "Name ×3". Several: "5 alerts", with the names on the next line.
  const title = names.length === 1 ? (names[0] ?? "alert") : `${alerts.length} alerts`;
  const count = names.length === 1 && alerts.length > 1 ? ` ×${alerts.length}` : "";
  const header: string[] = [];
  if (status === "firing") {
    const partial = resolved.length > 0 ? ` · ${resolved.length} resolved` : "";
    header.push(`🔥 <b>FIRING</b> · ${bold(title)}${count}${severity ? ` · ${escapeHtml(severity)}` : ""}${partial}`);
  } else {
    const start = Math.min(...alerts.map((a) => a.startsAt.getTime()));
    const ends = alerts.map((a) => a.endsAt?.getTime()).filter((t): t is number => t !== undefined);
    const lasted = ends.length === alerts.length ? ` · lasted ${formatDuration(Math.max(...ends) - start)}` : "";
    header.push(`✅ <b>RESOLVED</b> · ${bold(title)}${count}${lasted}`);
  }
  if (names.length > 1) header.push(escapeHtml(truncate(names.join(", "), 300)));
  const groupLabelText = formatLabels(group.groupLabels, Object.keys(group.groupLabels).filter((k) => k !== "alertname").sort());
  if (groupLabelText) header.push(code(truncate(groupLabelText, 300)));
  const summary = commonValue(alerts, "summary") ?? group.commonAnnotations.summary;
  if (summary) header.push(escapeHtml(truncate(summary, 400)));

  const footer: string[] = [];
  const shownInHeader = new Set(["alertname", ...Object.keys(group.groupLabels)]);
  const common = commonLabels(alerts);
  const commonKeys = Object.keys(common)
    .filter((k) => !shownInHeader.has(k) && !noiseLabels.has(k))
    .sort();
  if (commonKeys.length > 0) footer.push(`Labels: ${code(truncate(formatLabels(common, commonKeys), 600))}`);
  if (group.truncatedAlerts > 0) {
    footer.push(`➕ ${group.truncatedAlerts} more alert${group.truncatedAlerts === 1 ? "" : "s"} left out by Alertmanager (max_alerts)`);
  }
  const links = cardLinks(group, alerts);
  if (links.length > 0) footer.push(links.join(" · "));
  for (const section of sections) footer.push(section.html);

  const distinguishing = (a: CardAlert) => {
    const keys = Object.keys(a.labels).filter((k) => !(k in common) && !noiseLabels.has(k) && k !== "alertname");
    keys.sort((x, y) => labelOrder(x) - labelOrder(y) || x.localeCompare(y));
    return keys.slice(0, 4);
  };
  const entries = alerts.map((a) => renderEntry(a, names.length > 1, distinguishing(a), summary));

  const headerText = header.join("\n");
  const footerText = footer.join("\n");
  // Entries go between header and footer while they fit; the rest is counted, not cut.
  const fixed = headerText.length + footerText.length + 4;
  const room = TELEGRAM_TEXT_LIMIT - fixed - 80; // keeps space for the "…and N more" line
  const shown: string[] = [];
  let used = 0;
  for (const entry of entries) {
    if (used + entry.length + 2 > room) break;
    shown.push(entry);
    used += entry.length + 2;
  }
  const hidden = alerts.slice(shown.length);
  const parts = [headerText];
  if (shown.length > 0) parts.push(shown.join("\n\n"));
  if (hidden.length > 0) {
    const hf = hidden.filter((a) => a.status === "firing").length;
    parts.push(`…and ${hidden.length} more (${hf} firing, ${hidden.length - hf} resolved)`);
  }
  if (footerText) parts.push(footerText);
  let text = parts.join("\n\n");
  if (text.length > TELEGRAM_TEXT_LIMIT) {
    // Only reachable with enormous section HTML; drop the sections rather than send nothing.
    text = [headerText, `…${alerts.length} alerts`, links.join(" · ")].filter(Boolean).join("\n\n");
  }

  return {
    text,
    status,
    severity,
    summary: {
      title: names.length === 1 ? title : `${lead?.alertname ?? title} +${names.length - 1}`,
      alertname: lead?.alertname ?? title,
      status,
      firing: firing.length,
      resolved: resolved.length,
      detail: truncate(lead ? formatLabels(lead.labels, distinguishing(lead).slice(0, 2)) || groupLabelText : groupLabelText, 120),
    },
  };
}

function renderEntry(a: CardAlert, showName: boolean, keys: string[], commonSummary: string | undefined): string {
  const icon = a.status === "firing" ? firingIcon(a.severity) : "✅";
  const what = [showName ? a.alertname : "", formatLabels(a.labels, keys)].filter(Boolean).join(" · ") || a.alertname;
  const lines = [`${icon} ${bold(truncate(what, 200))}`];
  const text = a.annotations.description ?? a.annotations.message ?? (a.annotations.summary !== commonSummary ? a.annotations.summary : undefined);
  if (text) lines.push(escapeHtml(truncate(text.trim(), 300)));
  const when =
    a.status === "firing"
      ? `since ${formatTime(a.startsAt)}`
      : a.endsAt
        ? `resolved ${formatTime(a.endsAt)} after ${formatDuration(a.endsAt.getTime() - a.startsAt.getTime())}`
        : `resolved (started ${formatTime(a.startsAt)})`;
  const graph = safeUrl(a.generatorUrl) ? ` · ${link(a.generatorUrl, "graph")}` : "";
  lines.push(`${italic(when)}${graph}`);
  return lines.join("\n");
}

function cardLinks(group: CardGroup, alerts: readonly CardAlert[]): string[] {
  const links: string[] = [];
  const runbook =
    group.commonAnnotations.runbook_url ??
    group.commonAnnotations.runbook ??
    alerts.map((a) => a.annotations.runbook_url ?? a.annotations.runbook).find((u) => safeUrl(u));
  if (safeUrl(runbook)) links.push(`📖 ${link(runbook, "Runbook")}`);
  const am = safeUrl(group.externalUrl);
  if (am) {
    const filter = Object.entries(group.groupLabels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)
      .join(",");
    const url = filter ? `${am.replace(/\/$/, "")}/#/alerts?filter=${encodeURIComponent(`{${filter}}`)}` : am;
    links.push(`🔔 ${link(url, "Alertmanager")}`);
  }
  return links;
}

function commonLabels(alerts: readonly CardAlert[]): Record<string, string> {
  const [first, ...rest] = alerts;
  if (!first) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first.labels)) if (rest.every((a) => a.labels[k] === v)) out[k] = v;
  return out;
}

function commonValue(alerts: readonly CardAlert[], annotation: string): string | undefined {
  const values = new Set(alerts.map((a) => a.annotations[annotation]));
  if (values.size !== 1) return undefined;
  return [...values][0];
}

function labelOrder(name: string): number {
  const i = identifyingLabels.indexOf(name);
  return i === -1 ? identifyingLabels.length : i;
}
