/** Plain-text tables for benchmark reports: a header row, then rows, columns padded to fit. */

export type Cell = string | number | null | undefined;

/**
 * Lines of a table. The first column is left-aligned (it names the row), the rest right-aligned
 * (they are numbers). Null and undefined print as "–", so a missing measurement is visible.
 */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string[] {
  const text = (c: Cell) => (c === null || c === undefined || (typeof c === "number" && Number.isNaN(c)) ? "–" : String(c));
  const all = [headers.map(text), ...rows.map((r) => r.map(text))];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd());
}

/** A share as a percentage with one decimal: 0.8571 → "85.7 %". */
export const pct = (share: number): string => (Number.isFinite(share) ? `${(Math.round(share * 1000) / 10).toFixed(1)} %` : "–");
