import type { CardSummary } from "../../db/schema.ts";
import { firingIcon, mostSevere, rankOf } from "./alert-card.ts";
import { TELEGRAM_TEXT_LIMIT, bold, escapeHtml, formatDuration, formatTime, italic, truncate } from "./html.ts";

export interface RollupMember {
  severity: string | null;
  summary: CardSummary;
  createdAt: Date;
  updatedAt: Date;
}

export interface RenderedRollup {
  text: string;
  status: "firing" | "resolved";
  severity: string | null;
}

const TOP = 12;

/**
 * A storm folded into one message: counts, then the alert names with the most firing groups.
 * Edited as members change, so a storm costs a handful of Telegram calls instead of hundreds.
 */
export function renderRollupCard(members: readonly RollupMember[]): RenderedRollup {
  const firingGroups = members.filter((m) => m.summary.status === "firing");
  const status = firingGroups.length > 0 ? "firing" : "resolved";
  const alertsFiring = members.reduce((n, m) => n + m.summary.firing, 0);
  const alertsResolved = members.reduce((n, m) => n + m.summary.resolved, 0);
  const since = members.length > 0 ? new Date(Math.min(...members.map((m) => m.createdAt.getTime()))) : new Date(0);

  interface Row {
    name: string;
    severity: string | null;
    firingGroups: number;
    resolvedGroups: number;
    example: string;
  }
  const byName = new Map<string, Row>();
  for (const m of members) {
    const row = byName.get(m.summary.alertname) ?? {
      name: m.summary.alertname,
      severity: m.severity,
      firingGroups: 0,
      resolvedGroups: 0,
      example: m.summary.detail,
    };
    if (m.summary.status === "firing") row.firingGroups++;
    else row.resolvedGroups++;
    if (rankOf(m.severity) < rankOf(row.severity)) row.severity = m.severity;
    byName.set(m.summary.alertname, row);
  }
  const rows = [...byName.values()].sort(
    (a, b) =>
      (b.firingGroups > 0 ? 1 : 0) - (a.firingGroups > 0 ? 1 : 0) ||
      rankOf(a.severity) - rankOf(b.severity) ||
      b.firingGroups - a.firingGroups ||
      b.resolvedGroups - a.resolvedGroups ||
      a.name.localeCompare(b.name),
  );

  const lines: string[] = [];
  if (status === "firing") {
    lines.push(`🌊 <b>Alert storm</b> · ${members.length} alert group${members.length === 1 ? "" : "s"} since ${escapeHtml(formatTime(since))}`);
    lines.push(`🔥 ${firingGroups.length} firing · ✅ ${members.length - firingGroups.length} resolved · ${alertsFiring + alertsResolved} alerts`);
  } else {
    const last = Math.max(...members.map((m) => m.updatedAt.getTime()));
    lines.push(`✅ <b>Storm over</b> · all ${members.length} alert groups resolved`);
    lines.push(`${alertsResolved} alerts, ${escapeHtml(formatTime(since))} · lasted ${formatDuration(last - since.getTime())}`);
  }
  lines.push("");
  const icon = (r: Row) => (r.firingGroups === 0 ? "✅" : firingIcon(r.severity));
  let shown = 0;
  let length = lines.join("\n").length;
  for (const row of rows.slice(0, TOP)) {
    const counts = [row.firingGroups > 0 ? `${row.firingGroups} firing` : "", row.resolvedGroups > 0 ? `${row.resolvedGroups} resolved` : ""]
      .filter(Boolean)
      .join(", ");
    const example = row.example ? ` · ${italic(truncate(row.example, 80))}` : "";
    const line = `${icon(row)} ${bold(truncate(row.name, 80))} — ${counts}${example}`;
    if (length + line.length + 120 > TELEGRAM_TEXT_LIMIT) break;
    lines.push(line);
    length += line.length + 1;
    shown++;
  }
  if (rows.length > shown) lines.push(`…and ${rows.length - shown} more alert names`);
  lines.push("");
  lines.push("<i>Too many new alerts to post one by one; this message is kept up to date instead.</i>");
  return { text: lines.join("\n"), status, severity: status === "firing" ? mostSevere(firingGroups) : null };
}
