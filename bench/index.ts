/**
 * `npm run bench` runs every benchmark in turn; `npm run bench -- ingest storm` runs those named.
 * Each prints a summary and writes bench/results/<name>.json. Benchmarks measure and report: a
 * failed requirement shows as FAIL in the output and the JSON, and the exit code is non-zero only
 * when a benchmark crashed.
 *
 * Adding one: write bench/<name>.ts exporting `run(): Promise<BenchResult>` and add a line below.
 */
import { closeAllScopes } from "./lib/scope.ts";
import { formatResult, writeResult } from "./lib/results.ts";
import type { BenchModule } from "./lib/types.ts";

const benchmarks: { name: string; about: string; load: () => Promise<BenchModule> }[] = [
  { name: "ingest", about: "webhook ingest throughput and latency vs a bare Hono route and direct inserts", load: () => import("./ingest.ts") },
  { name: "storm", about: "an alert storm against Telegram's 20 calls/min: folding, limits, nothing lost", load: () => import("./storm.ts") },
  { name: "retrieval", about: "runbook matching on alerts from real rules: recall, MRR, similarity floor, worst misses", load: () => import("./retrieval.ts") },
  { name: "search-latency", about: "runbook match latency and index cost at 100/1,000/10,000 runbooks vs brute-force cosine", load: () => import("./search-latency.ts") },
  { name: "approvals", about: "one-tap approvals through the Telegram webhook: presses/s, press -> job start, vs direct Postgres", load: () => import("./approvals.ts") },
  { name: "trust", about: "trust ladder defaults: simulated and exact chances of reaching standard, vs the design's goals", load: () => import("./trust.ts") },
];

async function main(argv: string[]): Promise<number> {
  const wanted = argv.filter((a) => !a.startsWith("-"));
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(`usage: npm run bench [-- <name>...]\n\n${benchmarks.map((b) => `  ${b.name.padEnd(8)} ${b.about}`).join("\n")}`);
    return 0;
  }
  const unknown = wanted.filter((n) => !benchmarks.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${benchmarks.map((b) => b.name).join(", ")}`);
    return 2;
  }
  const selected = wanted.length > 0 ? benchmarks.filter((b) => wanted.includes(b.name)) : benchmarks;

  let crashed = 0;
  const summary: string[] = [];
  for (const bench of selected) {
    console.log(`\n>> ${bench.name}: ${bench.about}`);
    const started = Date.now();
    try {
      const result = await (await bench.load()).run();
      console.log(`\n${formatResult(result)}`);
      const files = writeResult(result);
      console.log(`  written: ${files.map((f) => f.replace(`${process.cwd()}/`, "")).join(", ")}`);
      const failed = result.checks.filter((c) => c.must && !c.pass).length;
      summary.push(`${bench.name}: done in ${Math.round((Date.now() - started) / 1000)} s${failed > 0 ? `, ${failed} requirement(s) FAILED` : ""}`);
    } catch (error) {
      crashed++;
      console.error(`\n!! ${bench.name} crashed:`, error);
      summary.push(`${bench.name}: CRASHED (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`);
    }
  }
  console.log(`\n${summary.join("\n")}`);
  return crashed > 0 ? 1 : 0;
}

// Ctrl-C mid-run: stop the children and drop the databases before leaving.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up…`);
    void closeAllScopes().finally(() => process.exit(130));
  });
}

// Exit explicitly: a stray keep-alive socket must not keep a finished run hanging.
process.exit(await main(process.argv.slice(2)));
