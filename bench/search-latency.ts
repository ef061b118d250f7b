/**
 * What matching an alert costs as the library grows: 100, 1,000 and 10,000 runbooks in the
 * embedded index (our runbooks and the prometheus-operator pages, topped up with variations of
 * them), the lexical embedder, the labelled alerts of bench/data/alert-rules.json as queries,
 * cycled. Per size:
 *   - matchRunbooks end to end (what a card waits for), split into embedding the query, encoding
 *     its sparse vector, the hybrid index query and the rule/name scans (matchRunbooks with
 *     limit 0 returns right after them), the rest being the reasons shown on the card;
 *   - baseline in the same run: a brute-force cosine over the same dense vectors (no sparse, no
 *     fusion), so the price of hybrid search shows as a ratio;
 *   - the time to embed and index the library, memoryBytes() of the index, and how much the
 *     process's heap and RSS grew to hold it;
 *   - the same matches through the Qdrant adapter when QDRANT_URL is set.
 */
import { randomBytes } from "node:crypto";
import { QdrantClient } from "@qdrant/js-client-rest";
import { alertQuery, runbookDocument, type AlertLike } from "../src/runbooks/documents.ts";
import { defaultMinSimilarity } from "../src/runbooks/index.ts";
import { createRunbookLibrary } from "../src/runbooks/load.ts";
import { matchRunbooks } from "../src/runbooks/match.ts";
import { createEmbeddedIndex, type EmbeddedIndex } from "../src/runbooks/search/embedded-index.ts";
import { createLexicalEmbedder } from "../src/runbooks/search/embedder.ts";
import { createQdrantIndex } from "../src/runbooks/search/qdrant-index.ts";
import { encodeDocument, encodeQuery } from "../src/runbooks/search/sparse.ts";
import type { SparseVector, VectorIndex } from "../src/runbooks/search/vector-index.ts";
import { indexLibrary } from "../src/runbooks/sync.ts";
import type { RunbookLibrary } from "../src/runbooks/types.ts";
import { createDenseBaseline } from "./lib/baselines.ts";
import { machineEnvironment } from "./lib/infra.ts";
import { loadLabelledAlerts, toAlertLike } from "./lib/labelled-alerts.ts";
import { canCollectGarbage, growthMb, memorySnapshot } from "./lib/memory.ts";
import { repoRoot } from "./lib/process.ts";
import { buildBenchLibrary } from "./lib/runbook-library.ts";
import { createScope, interrupted } from "./lib/scope.ts";
import { ratio, round1, round2, summarize, type LatencySummary } from "./lib/stats.ts";
import { synthesizeRunbooks } from "./lib/synthetic-runbooks.ts";
import { table } from "./lib/table.ts";
import type { BenchCheck, BenchResult } from "./lib/types.ts";

const SIZES = (process.env.BENCH_LATENCY_SIZES ?? "100,1000,10000").split(",").map(Number);
const QUERIES = Number(process.env.BENCH_LATENCY_QUERIES ?? 400);
const WARMUP = Number(process.env.BENCH_LATENCY_WARMUP ?? 50);
/** What matchRunbooks asks the index for on a card: limit 3 plus 2, when no rule or name matched. */
const INDEX_LIMIT = 5;

interface SizeResult {
  runbooks: number;
  synthetic: number;
  index: {
    /** indexLibrary: documents built, embedded, sparse-encoded and upserted. */
    embedAndIndexMs: number;
    embedOnlyMs: number;
    sparseEncodeOnlyMs: number;
    memoryBytes: number;
    memoryMb: number;
  };
  memory: {
    /** Growth for the synthetic runbooks themselves (the library the index is built from). */
    library: ReturnType<typeof growthMb>;
    /** Growth for the index alone, with the library already held. */
    index: ReturnType<typeof growthMb>;
  };
  latencyMs: {
    match: LatencySummary;
    /** The matches that reached the index: rules and names had not filled the card. */
    matchSearched: LatencySummary;
    embedQuery: LatencySummary;
    encodeQuery: LatencySummary;
    hybridQuery: LatencySummary;
    /** matchRunbooks with limit 0: it returns right after the rule and name scans, before searching. */
    ruleNameStage: LatencySummary;
    bruteForceDense: LatencySummary;
  };
  /** Share of matches that never reached the index (rules and names filled all 3 places). */
  shortCircuitShare: number;
  /** mean(searched match) − the means of its measured parts: building reasons, and overhead. */
  restMeanMs: number;
  ratios: { hybridOverBruteForce: { fraction: number; percent: number }; matchOverBruteForce: { fraction: number; percent: number } };
  qdrant?: { upsertMs: number; match: LatencySummary } | { error: string };
}

export async function run(): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const scope = createScope();
  try {
    const env = await machineEnvironment(repoRoot);
    const alerts: AlertLike[] = loadLabelledAlerts().alerts.map(toAlertLike);
    const built = await buildBenchLibrary(scope);
    const base = built.library.runbooks;
    const embedder = createLexicalEmbedder();
    const qdrantUrl = process.env.QDRANT_URL;
    log(`${base.length} real runbooks, ${alerts.length} queries cycled, ${QUERIES} timed matches per size after ${WARMUP} warm-up; sizes ${SIZES.join(", ")}`);
    if (!canCollectGarbage) log("no gc available: memory growth includes uncollected garbage");

    const results: SizeResult[] = [];
    for (const size of SIZES) {
      if (interrupted.aborted) break;
      const before = memorySnapshot();
      const synthetic = synthesizeRunbooks(base, Math.max(0, size - base.length));
      const library = createRunbookLibrary([...base.map((runbook) => ({ runbook, problems: [] })), ...synthetic]);
      const afterLibrary = memorySnapshot();

      let index: EmbeddedIndex | undefined = createEmbeddedIndex();
      const started = performance.now();
      await indexLibrary(embedder, index, library);
      const embedAndIndexMs = performance.now() - started;
      const afterIndex = memorySnapshot();
      const memoryBytes = index.memoryBytes();

      // The same work indexLibrary did, piece by piece, for the breakdown and the baseline's vectors.
      const texts = library.runbooks.map(runbookDocument);
      let t = performance.now();
      const vectors = await embedder.embedDocuments(texts);
      const embedOnlyMs = performance.now() - t;
      t = performance.now();
      for (const text of texts) encodeDocument(text);
      const sparseEncodeOnlyMs = performance.now() - t;
      const dense = createDenseBaseline(embedder.dims);
      dense.add(library.runbooks.map((rb, i) => ({ id: rb.id, dense: vectors[i]! })));

      log(`${library.runbooks.length} runbooks: indexed in ${Math.round(embedAndIndexMs)} ms, memoryBytes ${round1(memoryBytes / 1024 / 1024)} MB; timing matches…`);
      const { latency, means, shortCircuitShare } = await timeMatches(library, index, embedder, alerts, dense);

      let qdrant: SizeResult["qdrant"];
      if (qdrantUrl) qdrant = await qdrantPass(scope, qdrantUrl, library, embedder, alerts).catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));

      results.push({
        runbooks: library.runbooks.length,
        synthetic: synthetic.length,
        index: {
          embedAndIndexMs: round1(embedAndIndexMs),
          embedOnlyMs: round1(embedOnlyMs),
          sparseEncodeOnlyMs: round1(sparseEncodeOnlyMs),
          memoryBytes,
          memoryMb: round1(memoryBytes / 1024 / 1024),
        },
        memory: { library: growthMb(before, afterLibrary), index: growthMb(afterLibrary, afterIndex) },
        latencyMs: latency,
        shortCircuitShare: round2(shortCircuitShare),
        restMeanMs: round2(means.matchSearched - means.embedQuery - means.encodeQuery - means.hybridQuery - means.ruleNameStage),
        // From unrounded means: at these sizes a rounded 0.07 ms would make the ratio a guess.
        ratios: {
          hybridOverBruteForce: ratio(means.hybridQuery, means.bruteForceDense),
          matchOverBruteForce: ratio(means.matchSearched, means.bruteForceDense),
        },
        ...(qdrant ? { qdrant } : {}),
      });
      // Let this size's index go before the next one is measured.
      index = undefined;
    }

    const report = [
      `checkout ${String(env.serviceCommit)}; ${String(env.cpus)} CPUs (${String(env.cpuModel)}), load ${JSON.stringify(env.loadAverageAtStart)}; node ${String(env.node)}`,
      `library: ${base.length} real runbooks (ours + prometheus-operator pages), topped up with variations of them (shuffled words, a third swapped for library words); embedder ${embedder.name}; embedded index`,
      `queries: the ${alerts.length} labelled alerts, cycled, alert name included, limit 3, floor ${defaultMinSimilarity.lexical} (a card's match); ${QUERIES} timed after ${WARMUP} warm-up`,
      "",
      "match latency, ms (each timed call on its own; parts measured in the same loop on the same alerts)",
      ...table(
        ["runbooks", "", "p50", "p90", "p99", "max", "mean"],
        results.flatMap((r) => [
          [r.runbooks, "matchRunbooks, all", ...cells(r.latencyMs.match)],
          ["", `  ${Math.round(r.shortCircuitShare * 100)} % filled by rules/names`, "", "", "", "", ""],
          ["", "matchRunbooks, searched", ...cells(r.latencyMs.matchSearched)],
          ["", "  embed query", ...cells(r.latencyMs.embedQuery)],
          ["", "  encode sparse", ...cells(r.latencyMs.encodeQuery)],
          ["", "  hybrid index query", ...cells(r.latencyMs.hybridQuery)],
          ["", "  rule/name scans", ...cells(r.latencyMs.ruleNameStage)],
          ["", "  rest: reasons, overhead (mean)", "", "", "", "", r.restMeanMs],
          ["", "brute-force cosine", ...cells(r.latencyMs.bruteForceDense)],
        ]),
      ),
      "",
      "cost of hybrid (means): hybrid index query / brute-force dense cosine, and a searched match / brute-force",
      ...table(
        ["runbooks", "hybrid / brute", "match / brute"],
        results.map((r) => [r.runbooks, `${r.ratios.hybridOverBruteForce.fraction.toFixed(2)}×`, `${r.ratios.matchOverBruteForce.fraction.toFixed(2)}×`]),
      ),
      "",
      `building the index, and memory (growth measured after a full GC${canCollectGarbage ? "" : " — not available, so including garbage"})`,
      ...table(
        ["runbooks", "embed+index ms", "embed only", "sparse only", "memoryBytes MB", "index heap+ext MB", "index RSS MB", "library heap MB"],
        results.map((r) => [
          r.runbooks,
          r.index.embedAndIndexMs,
          r.index.embedOnlyMs,
          r.index.sparseEncodeOnlyMs,
          r.index.memoryMb,
          r.memory.index.heapPlusExternal,
          r.memory.index.rss,
          r.memory.library.heapPlusExternal,
        ]),
      ),
      "",
      qdrantUrl
        ? `Qdrant (${new URL(qdrantUrl).host}):\n${table(
            ["runbooks", "upsert ms", "match p50", "p99", "mean"],
            results.map((r) => (r.qdrant && "match" in r.qdrant ? [r.runbooks, r.qdrant.upsertMs, r.qdrant.match.p50, r.qdrant.match.p99, r.qdrant.match.mean] : [r.runbooks, r.qdrant?.error ?? "–"])),
          ).join("\n")}`
        : "Qdrant: skipped (QDRANT_URL is not set); the same matches run through createQdrantIndex when it is",
    ];

    const checks: BenchCheck[] = [
      { name: "library sizes as asked", must: false, pass: results.every((r, i) => r.runbooks === Math.max(SIZES[i]!, base.length)), detail: results.map((r) => r.runbooks).join(", ") },
      { name: "real library loaded whole", must: false, pass: built.problems.length === 0, detail: built.problems.length === 0 ? `${base.length} runbooks` : built.problems.slice(0, 3).join("; ") },
    ];

    return {
      name: "search-latency",
      title: "Runbook match latency and index cost at 100 / 1,000 / 10,000 runbooks, vs brute-force cosine",
      startedAt,
      finishedAt: new Date().toISOString(),
      report,
      checks,
      data: {
        environment: env,
        settings: { sizes: SIZES, queries: QUERIES, warmup: WARMUP, embedder: embedder.name, minSimilarity: defaultMinSimilarity.lexical, indexLimit: INDEX_LIMIT, gc: canCollectGarbage },
        results,
        qdrant: qdrantUrl ? "measured" : "skipped: QDRANT_URL not set",
      },
    };
  } finally {
    const problems = await scope.close();
    for (const p of problems) console.error(`search-latency cleanup: ${p}`);
  }
}

/**
 * One loop over the queries, each step timing the whole match and then each part on its own
 * inputs, so every measurement sees the same alerts in the same machine state.
 */
async function timeMatches(
  library: RunbookLibrary,
  index: VectorIndex,
  embedder: ReturnType<typeof createLexicalEmbedder>,
  alerts: AlertLike[],
  dense: ReturnType<typeof createDenseBaseline>,
): Promise<{ latency: SizeResult["latencyMs"]; means: Record<"matchSearched" | "embedQuery" | "encodeQuery" | "hybridQuery" | "ruleNameStage" | "bruteForceDense", number>; shortCircuitShare: number }> {
  const deps = { library, index, embedder };
  // Query vectors computed once per alert, so the index and the baseline are timed on the search alone.
  const prepared: { query: string; dense: number[]; sparse: SparseVector }[] = [];
  for (const alert of alerts) {
    const query = alertQuery(alert);
    prepared.push({ query, dense: await embedder.embedQuery(query), sparse: encodeQuery(query) });
  }
  const times = { match: [] as number[], matchSearched: [] as number[], embedQuery: [] as number[], encodeQuery: [] as number[], hybridQuery: [] as number[], ruleNameStage: [] as number[], bruteForceDense: [] as number[] };
  for (let i = 0; i < WARMUP + QUERIES; i++) {
    if (interrupted.aborted) break;
    const alert = alerts[i % alerts.length]!;
    const p = prepared[i % alerts.length]!;
    const keep = i >= WARMUP;
    let t = performance.now();
    const found = await matchRunbooks(deps, alert, { limit: 3, minSimilarity: defaultMinSimilarity.lexical });
    const took = performance.now() - t;
    if (keep) {
      times.match.push(took);
      // Three answers by rule or name mean it returned before searching.
      if (!(found.length === 3 && found.every((m) => m.via !== "similar"))) times.matchSearched.push(took);
    }
    t = performance.now();
    await embedder.embedQuery(p.query);
    if (keep) times.embedQuery.push(performance.now() - t);
    t = performance.now();
    encodeQuery(p.query);
    if (keep) times.encodeQuery.push(performance.now() - t);
    t = performance.now();
    await index.query({ dense: p.dense, sparse: p.sparse, limit: INDEX_LIMIT, filter: { kind: "runbook" } });
    if (keep) times.hybridQuery.push(performance.now() - t);
    t = performance.now();
    await matchRunbooks(deps, alert, { limit: 0, minSimilarity: defaultMinSimilarity.lexical });
    if (keep) times.ruleNameStage.push(performance.now() - t);
    t = performance.now();
    dense.query(p.dense, INDEX_LIMIT);
    if (keep) times.bruteForceDense.push(performance.now() - t);
  }
  const mean = (xs: number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  return {
    latency: {
      match: summarize(times.match),
      matchSearched: summarize(times.matchSearched),
      embedQuery: summarize(times.embedQuery),
      encodeQuery: summarize(times.encodeQuery),
      hybridQuery: summarize(times.hybridQuery),
      ruleNameStage: summarize(times.ruleNameStage),
      bruteForceDense: summarize(times.bruteForceDense),
    },
    means: {
      matchSearched: mean(times.matchSearched),
      embedQuery: mean(times.embedQuery),
      encodeQuery: mean(times.encodeQuery),
      hybridQuery: mean(times.hybridQuery),
      ruleNameStage: mean(times.ruleNameStage),
      bruteForceDense: mean(times.bruteForceDense),
    },
    shortCircuitShare: times.match.length > 0 ? 1 - times.matchSearched.length / times.match.length : Number.NaN,
  };
}

/** The same library and matches through Qdrant, in a collection of its own that is dropped afterwards. */
async function qdrantPass(
  scope: ReturnType<typeof createScope>,
  url: string,
  library: RunbookLibrary,
  embedder: ReturnType<typeof createLexicalEmbedder>,
  alerts: AlertLike[],
): Promise<{ upsertMs: number; match: LatencySummary }> {
  const collection = `topicops_bench_${randomBytes(4).toString("hex")}`;
  const apiKey = process.env.QDRANT_API_KEY;
  const client = new QdrantClient({ url, ...(apiKey ? { apiKey } : {}), checkCompatibility: false });
  scope.defer(`delete Qdrant collection ${collection}`, () => client.deleteCollection(collection));
  const index = createQdrantIndex({ url, collection, client });
  const started = performance.now();
  await indexLibrary(embedder, index, library);
  const upsertMs = round1(performance.now() - started);
  const deps = { library, index, embedder };
  const times: number[] = [];
  for (let i = 0; i < WARMUP + QUERIES; i++) {
    if (interrupted.aborted) break;
    const t = performance.now();
    await matchRunbooks(deps, alerts[i % alerts.length]!, { limit: 3, minSimilarity: defaultMinSimilarity.lexical });
    if (i >= WARMUP) times.push(performance.now() - t);
  }
  return { upsertMs, match: summarize(times) };
}

function cells(s: LatencySummary): (number | string)[] {
  return [s.p50, s.p90, s.p99, s.max, s.mean];
}

function log(message: string): void {
  console.log(`  [search-latency] ${message}`);
}
