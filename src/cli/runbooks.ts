import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { Config } from "../config.ts";
import { createDatabase } from "../db/client.ts";
import { ensureDatabase } from "../db/migrate.ts";
import { AppError, errorMessage } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { createRunbooks, createSearchBackends, importRunbooks, loadRunbooks, matchRunbooks } from "../runbooks/index.ts";
import { indexLibrary } from "../runbooks/sync.ts";
import type { Runbook, RunbookLibrary } from "../runbooks/types.ts";
import { parseAlertmanager } from "../sources/alertmanager.ts";
import type { AlertSignal } from "../sources/types.ts";
import { formatMatcher } from "../util/matchers.ts";
import { formatProblem } from "../util/yaml-file.ts";
import { withTimeout } from "../util/with-timeout.ts";

export const runbooksUsage = `Usage: topicops runbooks <command>

  list [--json]                       every runbook: id, kind, risk, level, steps, title
  show <id>                           one runbook: its match rules, parameters, steps and text
  validate                            check every file in RUNBOOKS_DIR; exit 1 on any problem
  sync                                bring the database and the search index in line with the files
  import <dir> [--into <name>]        copy a folder of markdown runbooks into RUNBOOKS_DIR/<name>, then sync
  match <payload.json> [--json] [--without-name]
                                      the runbooks the service would suggest for each alert in a payload`;

export interface Out {
  log(line: string): void;
  error(line: string): void;
}

/** `topicops runbooks …`. Returns the exit code. */
export async function runbooksCommand(args: string[], config: Config, logger: Logger, out: Out): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: "boolean" }, into: { type: "string" }, "without-name": { type: "boolean" } },
  });
  const [sub, arg] = positionals;
  switch (sub) {
    case "list":
      return list(config, out, values.json === true);
    case "show":
      if (!arg) return usage(out, "show needs a runbook id");
      return show(config, out, arg);
    case "validate":
      return validate(config, out);
    case "sync":
      return sync(config, logger, out);
    case "import":
      if (!arg) return usage(out, "import needs a folder");
      return importDir(config, logger, out, arg, values.into);
    case "match":
      if (!arg) return usage(out, "match needs a payload file");
      return match(config, out, arg, { json: values.json === true, includeName: values["without-name"] !== true });
    default:
      return usage(out, sub ? `unknown runbooks command "${sub}"` : undefined);
  }
}

function usage(out: Out, problem?: string): number {
  if (problem) out.error(`topicops runbooks: ${problem}\n`);
  out.error(runbooksUsage);
  return 2;
}

function reportProblems(library: RunbookLibrary, out: Out): void {
  for (const p of library.problems) out.error(formatProblem(p));
}

async function levels(config: Config): Promise<Map<string, string> | undefined> {
  // Levels are state in Postgres; the files alone only know where each runbook starts.
  const database = createDatabase(config.databaseUrl, { max: 1 });
  try {
    const rows = await withTimeout(database.sql<{ id: string; level: string }[]>`select id, level from runbooks`, 3000, "timeout");
    return new Map(rows.map((r) => [r.id, r.level]));
  } catch {
    return undefined;
  } finally {
    await database.close().catch(() => {});
  }
}

async function list(config: Config, out: Out, json: boolean): Promise<number> {
  const library = await loadRunbooks(config.runbooksDir);
  const known = await levels(config);
  const rows = library.runbooks.map((rb) => ({
    id: rb.id,
    kind: rb.kind,
    risk: rb.kind === "page" ? "-" : rb.risk,
    level: rb.kind === "page" ? "read-only" : (known?.get(rb.id) ?? `${rb.startingLevel} (start)`),
    steps: rb.steps.length,
    title: rb.title,
    file: rb.file,
  }));
  if (json) {
    out.log(JSON.stringify({ runbooks: rows, problems: library.problems }, null, 2));
  } else {
    out.log(table(["id", "kind", "risk", "level", "steps", "title"], rows.map((r) => [r.id, r.kind, r.risk, r.level, String(r.steps), r.title])));
    out.log(`\n${rows.length} runbooks in ${config.runbooksDir}${known ? "" : " (levels: database not reachable, showing starting levels)"}`);
  }
  reportProblems(library, out);
  return library.problems.length > 0 ? 1 : 0;
}

async function show(config: Config, out: Out, id: string): Promise<number> {
  const library = await loadRunbooks(config.runbooksDir);
  const rb = library.byId(id);
  if (!rb) {
    out.error(`topicops runbooks show: no runbook "${id}" in ${config.runbooksDir}`);
    return 1;
  }
  out.log(describe(rb, (await levels(config))?.get(rb.id)));
  return 0;
}

function describe(rb: Runbook, level: string | undefined): string {
  const lines = [`${rb.title}`, `  id: ${rb.id}   file: ${rb.file}   kind: ${rb.kind}`];
  if (rb.kind === "runbook") lines.push(`  risk: ${rb.risk}   level: ${level ?? `${rb.startingLevel} (starting level)`}`);
  if (rb.aliases.length > 0) lines.push(`  also known as: ${rb.aliases.join(", ")}`);
  if (rb.match) {
    if (rb.match.alerts.length > 0) lines.push(`  alerts: ${rb.match.alerts.join(", ")}`);
    if (rb.match.labels.length > 0) lines.push(`  labels: ${rb.match.labels.map(formatMatcher).join(", ")}`);
  }
  if (rb.params.length > 0) {
    lines.push("  params:");
    for (const p of rb.params) lines.push(`    ${p.name} = ${p.default ?? "(no default)"}   must match ${p.pattern}${p.description ? `   ${p.description}` : ""}`);
  }
  if (rb.steps.length > 0) {
    lines.push("  steps:");
    rb.steps.forEach((step, i) => {
      const what =
        step.type === "run"
          ? `run ${step.argv.join(" ")}`
          : step.type === "http"
            ? `http ${step.request.method} ${step.request.url}`
            : step.type === "wait"
              ? `wait ${step.durationMs / 1000}s`
              : step.condition.kind === "prometheus"
                ? `check prometheus ${step.condition.expect}: ${step.condition.query}`
                : `check http ${step.condition.request.url}`;
      lines.push(`    ${i + 1}. ${step.name ? `${step.name}: ` : ""}${what}`);
    });
  }
  lines.push("", rb.body.trim());
  return lines.join("\n");
}

async function validate(config: Config, out: Out): Promise<number> {
  const library = await loadRunbooks(config.runbooksDir);
  reportProblems(library, out);
  const runnable = library.runbooks.filter((r) => r.kind === "runbook").length;
  out.log(
    `${library.runbooks.length} runbooks loaded (${runnable} with steps, ${library.runbooks.length - runnable} read-only pages), ${library.problems.length} problem${library.problems.length === 1 ? "" : "s"}`,
  );
  return library.problems.length > 0 ? 1 : 0;
}

async function sync(config: Config, logger: Logger, out: Out): Promise<number> {
  await ensureDatabase(config.databaseUrl, logger);
  const database = createDatabase(config.databaseUrl, { max: 2 });
  try {
    const service = await createRunbooks(config, { sql: database.sql, logger });
    const report = await service.sync();
    await service.stop();
    reportProblems(service.library(), out);
    out.log(
      `synced ${report.runbooks} runbooks: ${report.embedded} embedded, ${report.indexed} written to the index, ${report.removed} removed, ${report.problems} problems`,
    );
    return report.problems > 0 ? 1 : 0;
  } finally {
    await database.close();
  }
}

async function importDir(config: Config, logger: Logger, out: Out, dir: string, into: string | undefined): Promise<number> {
  const result = await importRunbooks(dir, config.runbooksDir, into ? { into } : {});
  for (const f of result.imported) out.log(`imported ${f.file} → ${f.to} (${f.kind} ${f.id}${f.replaced ? ", replaced" : ""})`);
  for (const f of result.skipped) out.log(`skipped ${f.file}: ${f.reason}`);
  for (const p of result.problems) out.error(formatProblem(p));
  out.log(`${result.imported.length} imported, ${result.skipped.length} skipped, ${result.problems.length} problems`);
  const synced = result.imported.length > 0 ? await sync(config, logger, out).catch((error: unknown) => {
    out.error(`imported, but could not sync: ${errorMessage(error)} (run \`topicops runbooks sync\` when the database is up)`);
    return 1;
  }) : 0;
  return result.problems.length > 0 ? 1 : synced;
}

async function match(config: Config, out: Out, file: string, options: { json: boolean; includeName: boolean }): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new AppError("config", `cannot read ${file}: ${errorMessage(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AppError("invalid_payload", `${file} is not JSON: ${errorMessage(error)}`);
  }
  const group = parseAlertmanager(json);
  const library = await loadRunbooks(config.runbooksDir);
  reportProblems(library, out);
  // The same backends as the service, but an in-process index over the files: no database needed.
  const backends = await createSearchBackends({ ...config, qdrantUrl: undefined });
  const { index } = backends;
  await indexLibrary(backends.embedder, index, library);
  const results = [];
  for (const alert of representatives(group.alerts)) {
    const matches = await matchRunbooks({ library, index, embedder: backends.embedder }, alert, {
      minSimilarity: backends.minSimilarity,
      includeName: options.includeName,
    });
    results.push({ alert: { alertname: alert.alertname, status: alert.status, labels: alert.labels }, matches });
  }
  if (options.json) {
    out.log(JSON.stringify({ search: backends.describe, minSimilarity: backends.minSimilarity, results }, null, 2));
    return 0;
  }
  for (const r of results) {
    const labels = Object.entries(r.alert.labels)
      .filter(([k]) => k !== "alertname")
      .slice(0, 4)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
    out.log(`${r.alert.alertname} (${r.alert.status}${labels ? `; ${labels}` : ""})`);
    if (r.matches.length === 0) out.log("  no runbook fits this alert");
    r.matches.forEach((m, i) => out.log(`  ${i + 1}. ${m.runbookId.padEnd(32)} ${`${Math.round(m.score * 100)}%`.padStart(4)}  ${m.via.padEnd(7)}  ${m.reason}`));
  }
  out.log(`\n(${backends.describe}; similarity floor ${backends.minSimilarity})`);
  return 0;
}

/** One alert per alert name, the most telling one (firing first): what a card would search for. */
function representatives(alerts: readonly AlertSignal[]): AlertSignal[] {
  const byName = new Map<string, AlertSignal>();
  for (const a of alerts) {
    const seen = byName.get(a.alertname);
    if (!seen || (seen.status === "resolved" && a.status === "firing")) byName.set(a.alertname, a);
  }
  return [...byName.values()];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.min(48, Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.slice(0, widths[i]).padEnd(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}
