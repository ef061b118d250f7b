import type { Suggestions } from "../../runbooks/service.ts";
import type { CardSection } from "./alert-card.ts";
import { bold, escapeHtml, italic, truncate } from "./html.ts";

const levelWords: Record<string, string> = {
  manual: "manual",
  prompted: "prompted",
  standard: "standard",
  page: "read-only",
};

/**
 * The "Runbooks" part of an alert card: the best matches with their level, how well and why they
 * match, and their record so far; or plainly that none fits, rather than noise.
 */
export function renderRunbooksSection(s: Suggestions, formatDate: (d: Date) => string): CardSection {
  const lines: string[] = [];
  if (s.suggestions.length === 0) {
    lines.push("📚 No runbook fits this alert.");
  } else {
    lines.push("📚 <b>Runbooks</b>");
    s.suggestions.forEach((m, i) => {
      const score = `${Math.round(m.score * 100)}%`;
      lines.push(`${i + 1}. ${bold(truncate(m.title, 80))} · ${levelWords[m.level] ?? m.level} · ${score} · ${italic(truncate(m.reason, 100))}`);
      const r = m.record;
      if (r && r.approved + r.failed > 0) {
        const parts = [`${r.approved} approved`, `${r.succeeded} ok`];
        if (r.failed > 0) parts.push(`${r.failed} failed`);
        if (r.lastUsed) parts.push(`last ${formatDate(r.lastUsed)}`);
        lines.push(`   ${escapeHtml(parts.join(" · "))}`);
      }
    });
  }
  if (s.lastTime) lines.push(`🕘 Last time: ${escapeHtml(truncate(s.lastTime.text, 160))}`);
  return { html: lines.join("\n") };
}
