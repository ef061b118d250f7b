import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./process.ts";
import type { BenchResult } from "./types.ts";

export const resultsDir = join(repoRoot, "bench", "results");

/**
 * Writes `<name>.json` (the latest run) and `<name>-<timestamp>.json` (kept, to compare runs).
 * The timestamp is ISO 8601 in its basic form (20250101T120000Z): no colons in file names.
 */
export function writeResult(result: BenchResult): string[] {
  mkdirSync(resultsDir, { recursive: true });
  const stamp = result.startedAt.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const files = [join(resultsDir, `${result.name}.json`), join(resultsDir, `${result.name}-${stamp}.json`)];
  for (const file of files) writeFileSync(file, json);
  return files;
}

export function formatResult(result: BenchResult): string {
  const lines = [`== ${result.name}: ${result.title}`, ...result.report.map((l) => `  ${l}`)];
  if (result.checks.length > 0) {
    lines.push("  checks:");
    for (const c of result.checks) {
      lines.push(`    ${c.pass ? "PASS" : "FAIL"}${c.must ? " (must)" : ""}  ${c.name}: ${c.detail}`);
    }
  }
  return lines.join("\n");
}
