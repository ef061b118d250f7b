/**
 * Retrieval quality of runbook matching, on alerts rendered from real alerting rules
 * (bench/data/alert-rules.json) against the library an operator gets after importing the
 * prometheus-operator pages next to our own runbooks.
 *
 * - Ranking: recall@1, recall@3 (what a card shows) and MRR over the first 10, with the alert
 *   name in the query and without it (`includeName: false`, what similarity alone finds), each
 *   with the similar candidates ordered by hybrid rank (`fused`, the default) or by the cosine the
 *   card shows (`similarity`). No floor (`minSimilarity: 0`), so the ranking is measured alone.
 * - The similarity floor: for each floor, the share of alerts with a right answer that still get
 *   it on the card, and the share of alerts with no right answer that still get a (wrong)
 *   suggestion by similarity. The floor that maximises the difference is printed next to
 *   `defaultMinSimilarity`.
 * - The worst misses and the most confident false suggestions, for a person to judge.
 *
 * The lexical embedder always; Ollama's embedder too when OLLAMA_HOST is set, reported separately.
 * Everything is in this process: no database, no service.
 */
import { alertQuery, runbookDocument } from "../src/runbooks/documents.ts";
import { defaultMinSimilarity } from "../src/runbooks/index.ts";
import { matchRunbooks, type RunbookMatch } from "../src/runbooks/match.ts";
import { createEmbeddedIndex } from "../src/runbooks/search/embedded-index.ts";
import { createLexicalEmbedder, createOllamaEmbedder, type Embedder } from "../src/runbooks/search/embedder.ts";
import { indexLibrary } from "../src/runbooks/sync.ts";
import type { RunbookLibrary } from "../src/runbooks/types.ts";
import { createDenseBaseline, createSparseBaseline, type Ranked } from "./lib/baselines.ts";
import { machineEnvironment } from "./lib/infra.ts";
import { loadLabelledAlerts, toAlertLike, type AlertGroup, type LabelledAlert } from "./lib/labelled-alerts.ts";
import { repoRoot } from "./lib/process.ts";
import { buildBenchLibrary, corpusDir } from "./lib/runbook-library.ts";
import { createScope } from "./lib/scope.ts";
import { round2 } from "./lib/stats.ts";
import { pct, table } from "./lib/table.ts";
import type { BenchCheck, BenchResult } from "./lib/types.ts";

const CARD_LIMIT = 3;
const MRR_LIMIT = 10;
/** The lexical embedder's cosines between related texts sit around 0.2–0.5; nomic-embed-text's higher. */
const LEXICAL_FLOORS = steps(0.05, 0.6, 0.05);
const OLLAMA_FLOORS = steps(0.3, 0.85, 0.05);
const WORST_SHOWN = 10;

interface MatchConfig {
  key: string;
  includeName: boolean;
  order: "fused" | "similarity";
}

const configs: MatchConfig[] = [
  { key: "name, fused", includeName: true, order: "fused" },
  { key: "name, similarity", includeName: true, order: "similarity" },
  { key: "no name, fused", includeName: false, order: "fused" },
  { key: "no name, similarity", includeName: false, order: "similarity" },
];

interface AlertResult {
  card: RunbookMatch[];
  top10: RunbookMatch[];
}

interface RankingMetrics {
  alerts: number;
  recallAt1: number;
  recallAt3: number;
  mrrAt10: number;
  /** Recall@3 also counting `related` pages (a neighbouring alert's page). */
  lenientRecallAt3: number;
}

interface StageMetrics {
  /** Share of positive alerts whose card has a right answer found by a rule or by name. */
  ruleOrNameRecallAt3: number;
  /** How the first right answer on the card was found, per alert. */
  firstRightVia: Record<"rule" | "name" | "similar" | "none", number>;
  /** Among alerts the rule/name stage found nothing right for: recall@3 of what similarity added. */
  similarRescueRecallAt3: number;
  similarRescueAlerts: number;
}

interface ConfigReport {
  config: MatchConfig;
  all: RankingMetrics;
  byGroup: Partial<Record<AlertGroup, RankingMetrics>>;
  /** Over alerts for which one of our (executable) runbooks is relevant: one of them on the card. */
  executableRecallAt3: { alerts: number; recall: number };
  stages: StageMetrics;
  /** Alerts whose limit-3 card differs from the first 3 of the limit-10 answer. */
  cardDiffersFromTop10: string[];
  /** Cards on which a similar suggestion shows a higher score than one above it. */
  scoresOutOfOrder: string[];
  perAlert: Record<string, { firstRight: number | null; card: string[] }>;
}

interface FloorRow {
  floor: number;
  /** Positive alerts whose card (at this floor) still shows a right answer: share, and count. */
  positivesShown: number;
  positivesShownCount: number;
  /** Negative alerts that still get at least one suggestion by similarity: share, and count. */
  negativesSuggested: number;
  negativesSuggestedCount: number;
  difference: number;
  /** Wrong suggestions by similarity per card, averaged over all alerts. */
  wrongPerCard: number;
}

interface Calibration {
  order: "fused" | "similarity";
  includeName: boolean;
  rows: FloorRow[];
  best: FloorRow;
  /** Every floor within 0.5 percentage points of the best difference: the plateau to choose from. */
  plateau: number[];
  atDefault: FloorRow | undefined;
}

/** Similarity alone, on the same vectors and query text: what fusion is measured against. */
interface BaselineReport {
  name: string;
  all: RankingMetrics;
}

/**
 * The real matchRunbooks, asked without the name, on the same alerts with their label words left
 * out of the query (labels = { alertname } only): how much the label part of `alertQuery` helps or
 * hurts similarity. Only the inputs change, so this is the code under test, not a copy of it.
 */
interface WithoutLabelsReport {
  all: RankingMetrics;
  executableRecallAt3: number;
  calibration: Calibration;
}

interface EmbedderReport {
  embedder: string;
  indexMs: number;
  defaultFloor: number;
  configs: ConfigReport[];
  baselines: BaselineReport[];
  withoutLabels: WithoutLabelsReport;
  calibrations: Calibration[];
  misses: { alert: string; group: AlertGroup; expected: string[]; firstRight: number | null; got: string[]; query: string }[];
  falseSuggestions: { alert: string; got: string[] }[];
}

export async function run(): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const scope = createScope();
  try {
    const env = await machineEnvironment(repoRoot);
    const set = loadLabelledAlerts();
    const built = await buildBenchLibrary(scope);
    const { library } = built;
    const ids = new Set(library.runbooks.map((r) => r.id));
    const unknownIds = set.alerts.flatMap((a) => [...a.relevant, ...(a.related ?? [])].filter((id) => !ids.has(id)).map((id) => `${a.id} → ${id}`));
    const positives = set.alerts.filter((a) => a.relevant.length > 0);
    const negatives = set.alerts.filter((a) => a.relevant.length === 0);
    log(`library: ${library.runbooks.length} runbooks (${built.imported.ours} ours, ${built.imported.corpus} pages from ${corpusDir})`);
    log(`labelled alerts: ${set.alerts.length} (${positives.length} with a right answer, ${negatives.length} negatives)`);

    const reports: EmbedderReport[] = [];
    const skipped: string[] = [];
    reports.push(await evaluate(createLexicalEmbedder(), library, set.alerts, LEXICAL_FLOORS, defaultMinSimilarity.lexical));
    if (process.env.OLLAMA_HOST) {
      const model = process.env.OLLAMA_EMBED_MODEL ?? "nomic-embed-text";
      try {
        const ollama = createOllamaEmbedder({ host: process.env.OLLAMA_HOST, model });
        await ollama.init();
        reports.push(await evaluate(ollama, library, set.alerts, OLLAMA_FLOORS, defaultMinSimilarity.ollama));
      } catch (error) {
        skipped.push(`ollama:${model}: ${error instanceof Error ? error.message : String(error)}`);
      }
    } else {
      skipped.push("ollama: OLLAMA_HOST is not set, so only the lexical embedder was measured");
    }

    const runbookUrlHits = set.alerts.filter((a) => {
      const last = a.annotations.runbook_url?.split("/").pop();
      return last !== undefined && ids.has(last);
    });

    const report: string[] = [
      `checkout ${String(env.serviceCommit)}; ${String(env.cpus)} CPUs, load ${JSON.stringify(env.loadAverageAtStart)}`,
      `library: ${library.runbooks.length} runbooks — ${built.imported.ours} of ours (runbooks/*.md) + ${built.imported.corpus} prometheus-operator pages, imported with importRunbooks and loaded with loadRunbooks`,
      `labelled alerts: ${set.alerts.length} from real rules (bench/data/alert-rules.json): ${countGroups(set.alerts)}`,
      `metrics over the ${positives.length} alerts that have a right answer; recall@k = share with a right answer in the first k; MRR over the first ${MRR_LIMIT} (0 beyond)`,
    ];
    for (const r of reports) report.push("", ...formatEmbedder(r, positives.length, negatives.length));
    report.push(
      "",
      `runbook_url: ${runbookUrlHits.length} of ${set.alerts.length} alerts carry a runbook_url whose last path segment is a library id (matching does not read it)`,
      ...skipped.map((s) => `skipped ${s}`),
    );

    const checks: BenchCheck[] = [
      { name: "library loaded whole", must: false, pass: built.problems.length === 0, detail: built.problems.length === 0 ? `${library.runbooks.length} runbooks, no problems` : built.problems.slice(0, 5).join("; ") },
      { name: "every labelled id is in the library", must: false, pass: unknownIds.length === 0, detail: unknownIds.length === 0 ? "all relevant/related ids exist" : unknownIds.join(", ") },
      { name: "labelled set is big enough to read", must: false, pass: set.alerts.length >= 60 && negatives.length >= 15, detail: `${set.alerts.length} alerts, ${negatives.length} negatives` },
    ];

    return {
      name: "retrieval",
      title: "Runbook retrieval on alerts from real rules: ranking, similarity floor, misses",
      startedAt,
      finishedAt: new Date().toISOString(),
      report,
      checks,
      data: {
        environment: env,
        library: { runbooks: library.runbooks.length, imported: built.imported, problems: built.problems },
        labelled: { file: "bench/data/alert-rules.json", alerts: set.alerts.length, positives: positives.length, negatives: negatives.length, groups: countGroups(set.alerts) },
        settings: { cardLimit: CARD_LIMIT, mrrLimit: MRR_LIMIT },
        embedders: reports,
        runbookUrl: { alerts: runbookUrlHits.length, ids: runbookUrlHits.map((a) => a.id) },
        skipped,
      },
    };
  } finally {
    const problems = await scope.close();
    for (const p of problems) console.error(`retrieval cleanup: ${p}`);
  }
}

async function evaluate(embedder: Embedder, library: RunbookLibrary, alerts: LabelledAlert[], floors: number[], defaultFloor: number): Promise<EmbedderReport> {
  const index = createEmbeddedIndex();
  const started = performance.now();
  await indexLibrary(embedder, index, library);
  const indexMs = round2(performance.now() - started);
  const deps = { library, index, embedder };
  log(`${embedder.name}: indexed in ${indexMs} ms`);

  const configReports: ConfigReport[] = [];
  const byConfig = new Map<string, Map<string, AlertResult>>();
  for (const config of configs) {
    const results = new Map<string, AlertResult>();
    for (const alert of alerts) {
      const options = { minSimilarity: 0, includeName: config.includeName, order: config.order };
      const card = await matchRunbooks(deps, toAlertLike(alert), { ...options, limit: CARD_LIMIT });
      const top10 = await matchRunbooks(deps, toAlertLike(alert), { ...options, limit: MRR_LIMIT });
      results.set(alert.id, { card, top10 });
    }
    byConfig.set(config.key, results);
    configReports.push(rankingReport(config, alerts, results, library));
  }

  const baselines = await baselineReports(embedder, library, alerts);

  const calibrate = async (order: "fused" | "similarity", includeName: boolean, alertOf: (a: LabelledAlert) => ReturnType<typeof toAlertLike>): Promise<Calibration> => {
    const rows: FloorRow[] = [];
    for (const floor of floors) {
      const cards = new Map<string, RunbookMatch[]>();
      for (const alert of alerts) {
        cards.set(alert.id, await matchRunbooks(deps, alertOf(alert), { minSimilarity: floor, includeName, order, limit: CARD_LIMIT }));
      }
      rows.push(floorRow(floor, alerts, cards));
    }
    const best = rows.reduce((a, b) => (b.difference > a.difference + 1e-9 ? b : a));
    return {
      order,
      includeName,
      rows,
      best,
      plateau: rows.filter((r) => r.difference >= best.difference - 0.005).map((r) => r.floor),
      atDefault: rows.find((r) => Math.abs(r.floor - defaultFloor) < 1e-9),
    };
  };
  const calibrations: Calibration[] = [];
  for (const order of ["fused", "similarity"] as const) {
    for (const includeName of [false, true]) calibrations.push(await calibrate(order, includeName, toAlertLike));
  }

  const bare = (a: LabelledAlert) => ({ ...toAlertLike(a), labels: { alertname: a.alertname } });
  const bareResults = new Map<string, AlertResult>();
  for (const alert of alerts) {
    const options = { minSimilarity: 0, includeName: false };
    bareResults.set(alert.id, {
      card: await matchRunbooks(deps, bare(alert), { ...options, limit: CARD_LIMIT }),
      top10: await matchRunbooks(deps, bare(alert), { ...options, limit: MRR_LIMIT }),
    });
  }
  const bareReport = rankingReport({ key: "no name, no labels", includeName: false, order: "fused" }, alerts, bareResults, library);
  const withoutLabels: WithoutLabelsReport = {
    all: bareReport.all,
    executableRecallAt3: bareReport.executableRecallAt3.recall,
    calibration: await calibrate("fused", false, bare),
  };

  // What similarity alone does worst, under the default order: the cases to read.
  const noName = byConfig.get("no name, fused")!;
  const label = (m: RunbookMatch) => `${m.runbookId} ${m.score.toFixed(2)}${m.via === "similar" ? "" : ` (${m.via})`}`;
  const misses = alerts
    .filter((a) => a.relevant.length > 0)
    .map((a) => {
      const r = noName.get(a.id)!;
      return { alert: a, firstRight: firstRight(r.top10, a.relevant), got: r.card.map(label) };
    })
    .filter((m) => m.firstRight === null || m.firstRight > 1)
    .sort((x, y) => (y.firstRight ?? 99) - (x.firstRight ?? 99) || x.alert.id.localeCompare(y.alert.id))
    .map((m) => ({
      alert: m.alert.id,
      group: m.alert.group,
      expected: m.alert.relevant,
      firstRight: m.firstRight,
      got: m.got,
      query: queryPreview(m.alert),
    }));
  const falseSuggestions = alerts
    .filter((a) => a.relevant.length === 0)
    .map((a) => ({ alert: a.id, card: noName.get(a.id)!.card }))
    // By the highest score on the card: under fused order that need not be the first one.
    .sort((x, y) => Math.max(0, ...y.card.map((m) => m.score)) - Math.max(0, ...x.card.map((m) => m.score)) || x.alert.localeCompare(y.alert))
    .map((x) => ({ alert: x.alert, got: x.card.map(label) }));

  return { embedder: embedder.name, indexMs, defaultFloor, configs: configReports, baselines, withoutLabels, calibrations, misses, falseSuggestions };
}

/**
 * Dense alone (brute-force cosine) and BM25 alone over the same documents and the same query
 * without the name, ranking what the similarity stage ranks: how much each half and their fusion
 * are worth, in the same run.
 */
async function baselineReports(embedder: Embedder, library: RunbookLibrary, alerts: LabelledAlert[]): Promise<BaselineReport[]> {
  const texts = library.runbooks.map((rb) => ({ id: rb.id, text: runbookDocument(rb) }));
  const vectors = await embedder.embedDocuments(texts.map((t) => t.text));
  const dense = createDenseBaseline(embedder.dims);
  dense.add(texts.map((t, i) => ({ id: t.id, dense: vectors[i]! })));
  const sparse = createSparseBaseline();
  sparse.add(texts);
  const positives = alerts.filter((a) => a.relevant.length > 0);
  const asResults = async (rank: (query: string) => Promise<Ranked[]>) => {
    const results = new Map<string, AlertResult>();
    for (const a of positives) {
      const top10 = (await rank(alertQuery(toAlertLike(a), { includeName: false }))).map(
        (r): RunbookMatch => ({ runbookId: r.id, title: "", kind: "runbook", score: r.score, via: "similar", reason: "" }),
      );
      results.set(a.id, { card: top10.slice(0, CARD_LIMIT), top10 });
    }
    return results;
  };
  const denseResults = await asResults(async (q) => dense.query(await embedder.embedQuery(q), MRR_LIMIT));
  const sparseResults = await asResults(async (q) => sparse.query(q, MRR_LIMIT));
  return [
    { name: "dense only (brute-force cosine)", all: ranking(positives, denseResults) },
    { name: "sparse only (BM25, same IDF)", all: ranking(positives, sparseResults) },
  ];
}

/** 1-based rank of the first right answer, or null when none is in the list. */
function firstRight(list: readonly RunbookMatch[], relevant: readonly string[]): number | null {
  const i = list.findIndex((m) => relevant.includes(m.runbookId));
  return i < 0 ? null : i + 1;
}

function ranking(alerts: readonly LabelledAlert[], results: Map<string, AlertResult>): RankingMetrics {
  let r1 = 0;
  let r3 = 0;
  let rr = 0;
  let lenient = 0;
  for (const a of alerts) {
    const { card, top10 } = results.get(a.id)!;
    const onCard = firstRight(card, a.relevant);
    if (onCard === 1) r1++;
    if (onCard !== null) r3++;
    if (firstRight(card, [...a.relevant, ...(a.related ?? [])]) !== null) lenient++;
    const inTop10 = firstRight(top10, a.relevant);
    if (inTop10 !== null) rr += 1 / inTop10;
  }
  const n = alerts.length;
  return { alerts: n, recallAt1: r1 / n, recallAt3: r3 / n, mrrAt10: rr / n, lenientRecallAt3: lenient / n };
}

function rankingReport(config: MatchConfig, alerts: readonly LabelledAlert[], results: Map<string, AlertResult>, library: RunbookLibrary): ConfigReport {
  const positives = alerts.filter((a) => a.relevant.length > 0);
  const byGroup: Partial<Record<AlertGroup, RankingMetrics>> = {};
  for (const group of ["corpus", "ours", "sibling"] as const) {
    const inGroup = positives.filter((a) => a.group === group);
    if (inGroup.length > 0) byGroup[group] = ranking(inGroup, results);
  }

  const executable = (id: string) => library.byId(id)?.kind === "runbook";
  const withOurs = positives.filter((a) => a.relevant.some(executable));
  const oursOnCard = withOurs.filter((a) => results.get(a.id)!.card.some((m) => executable(m.runbookId) && a.relevant.includes(m.runbookId)));

  const firstRightVia: StageMetrics["firstRightVia"] = { rule: 0, name: 0, similar: 0, none: 0 };
  let ruleOrName = 0;
  let rescuable = 0;
  let rescued = 0;
  for (const a of positives) {
    const { card } = results.get(a.id)!;
    const right = card.find((m) => a.relevant.includes(m.runbookId));
    firstRightVia[right?.via ?? "none"]++;
    const byRuleOrName = card.some((m) => m.via !== "similar" && a.relevant.includes(m.runbookId));
    if (byRuleOrName) {
      ruleOrName++;
    } else {
      rescuable++;
      if (card.some((m) => m.via === "similar" && a.relevant.includes(m.runbookId))) rescued++;
    }
  }

  const cardDiffersFromTop10 = alerts
    .filter((a) => {
      const { card, top10 } = results.get(a.id)!;
      return card.map((m) => m.runbookId).join() !== top10.slice(0, CARD_LIMIT).map((m) => m.runbookId).join();
    })
    .map((a) => a.id);

  const scoresOutOfOrder = alerts
    .filter((a) => {
      const similar = results.get(a.id)!.card.filter((m) => m.via === "similar");
      return similar.some((m, i) => i > 0 && m.score > similar[i - 1]!.score);
    })
    .map((a) => a.id);

  const perAlert: ConfigReport["perAlert"] = {};
  for (const a of alerts) {
    const { card, top10 } = results.get(a.id)!;
    perAlert[a.id] = { firstRight: a.relevant.length > 0 ? firstRight(top10, a.relevant) : null, card: card.map((m) => `${m.runbookId}:${m.via}:${m.score}`) };
  }

  return {
    config,
    all: ranking(positives, results),
    byGroup,
    executableRecallAt3: { alerts: withOurs.length, recall: withOurs.length > 0 ? oursOnCard.length / withOurs.length : Number.NaN },
    stages: {
      ruleOrNameRecallAt3: ruleOrName / positives.length,
      firstRightVia,
      similarRescueRecallAt3: rescuable > 0 ? rescued / rescuable : Number.NaN,
      similarRescueAlerts: rescuable,
    },
    cardDiffersFromTop10,
    scoresOutOfOrder,
    perAlert,
  };
}

function floorRow(floor: number, alerts: readonly LabelledAlert[], cards: Map<string, RunbookMatch[]>): FloorRow {
  const positives = alerts.filter((a) => a.relevant.length > 0);
  const negatives = alerts.filter((a) => a.relevant.length === 0);
  const shown = positives.filter((a) => cards.get(a.id)!.some((m) => a.relevant.includes(m.runbookId))).length;
  const suggested = negatives.filter((a) => cards.get(a.id)!.some((m) => m.via === "similar")).length;
  const wrong = alerts.reduce((n, a) => n + cards.get(a.id)!.filter((m) => m.via === "similar" && !a.relevant.includes(m.runbookId)).length, 0);
  const positivesShown = shown / positives.length;
  const negativesSuggested = suggested / negatives.length;
  return {
    floor,
    positivesShown,
    positivesShownCount: shown,
    negativesSuggested,
    negativesSuggestedCount: suggested,
    difference: positivesShown - negativesSuggested,
    wrongPerCard: round2(wrong / alerts.length),
  };
}

function formatEmbedder(r: EmbedderReport, positives: number, negatives: number): string[] {
  const lines: string[] = [`── ${r.embedder} (embedded index; embed + index of the library ${r.indexMs} ms)`, ""];
  lines.push(
    `ranking, no floor (minSimilarity 0); ${positives} alerts with a right answer`,
    ...table(
      ["config", "recall@1", "recall@3", "MRR@10", "lenient r@3", "corpus r@3", "ours r@3", "sibling r@3", "our runbook on card"],
      r.configs.map((c) => [
        c.config.key,
        pct(c.all.recallAt1),
        pct(c.all.recallAt3),
        c.all.mrrAt10.toFixed(3),
        pct(c.all.lenientRecallAt3),
        groupCell(c.byGroup.corpus),
        groupCell(c.byGroup.ours),
        groupCell(c.byGroup.sibling),
        `${pct(c.executableRecallAt3.recall)} of ${c.executableRecallAt3.alerts}`,
      ]),
    ),
    ...table(
      ["baseline, no name", "recall@1", "recall@3", "MRR@10", "lenient r@3"],
      r.baselines.map((b) => [b.name, pct(b.all.recallAt1), pct(b.all.recallAt3), b.all.mrrAt10.toFixed(3), pct(b.all.lenientRecallAt3)]),
    ),
    "",
    "by stage: which stage put the first right answer on the card (limit 3), and what similarity adds where rules and names found nothing right",
    ...table(
      ["config", "rule/name r@3", "1st right via rule", "via name", "via similar", "none", "similar-only alerts", "their r@3"],
      r.configs.map((c) => [
        c.config.key,
        pct(c.stages.ruleOrNameRecallAt3),
        c.stages.firstRightVia.rule,
        c.stages.firstRightVia.name,
        c.stages.firstRightVia.similar,
        c.stages.firstRightVia.none,
        c.stages.similarRescueAlerts,
        pct(c.stages.similarRescueRecallAt3),
      ]),
    ),
  );
  const outOfOrder = r.configs.filter((c) => c.scoresOutOfOrder.length > 0);
  if (outOfOrder.length > 0) {
    lines.push(`cards showing a similar suggestion with a higher score below a lower one: ${outOfOrder.map((c) => `${c.scoresOutOfOrder.length} of ${Object.keys(c.perAlert).length} (${c.config.key})`).join(", ")}`);
  }
  const differing = r.configs.filter((c) => c.cardDiffersFromTop10.length > 0);
  if (differing.length > 0) {
    lines.push(
      `limit changes the answer: the limit-3 card differs from the first 3 of the limit-10 list for ${differing.map((c) => `${c.cardDiffersFromTop10.length} alerts (${c.config.key})`).join(", ")}`,
    );
  }

  for (const order of ["fused", "similarity"] as const) {
    const noName = r.calibrations.find((c) => c.order === order && !c.includeName)!;
    const withName = r.calibrations.find((c) => c.order === order && c.includeName)!;
    lines.push(
      "",
      `similarity floor, order ${order}${order === "fused" ? " (the default)" : ""}: (a) share of the ${positives} alerts with a right answer that still show one, (b) share of the ${negatives} negatives that still get a suggestion by similarity, wrong = wrong similar suggestions per card over all alerts`,
      ...table(
        ["floor", "no name (a)", "(b)", "(a)−(b)", "wrong", "with name (a)", "(b)", "(a)−(b)", "wrong"],
        noName.rows.map((row, i) => {
          const w = withName.rows[i]!;
          const mark = Math.abs(row.floor - r.defaultFloor) < 1e-9 ? " ← default" : "";
          return [
            `${row.floor.toFixed(2)}${mark}`,
            `${pct(row.positivesShown)} (${row.positivesShownCount})`,
            `${pct(row.negativesSuggested)} (${row.negativesSuggestedCount})`,
            signedPct(row.difference),
            row.wrongPerCard.toFixed(2),
            `${pct(w.positivesShown)} (${w.positivesShownCount})`,
            `${pct(w.negativesSuggested)} (${w.negativesSuggestedCount})`,
            signedPct(w.difference),
            w.wrongPerCard.toFixed(2),
          ];
        }),
      ),
      `best floor by (a)−(b): no name ${bestLine(noName)}; with name ${bestLine(withName)}; current default ${r.defaultFloor}`,
    );
  }

  const w = r.withoutLabels;
  lines.push(
    "",
    "what-if, the same alerts without label words in the query (labels = { alertname }), no name, order fused:",
    `  no floor: recall@1 ${pct(w.all.recallAt1)}, recall@3 ${pct(w.all.recallAt3)}, MRR@10 ${w.all.mrrAt10.toFixed(3)}, our runbook on card ${pct(w.executableRecallAt3)}`,
    `  best floor by (a)−(b): ${bestLine(w.calibration)}`,
  );

  lines.push("", `worst misses without the name (order fused, no floor): expected → first right rank in the top ${MRR_LIMIT} → what the card showed`);
  for (const m of r.misses.slice(0, WORST_SHOWN)) {
    lines.push(`  ${m.alert} [${m.group}] expected ${m.expected.join(" | ")}; first right at ${m.firstRight ?? `>${MRR_LIMIT}`}; got ${m.got.join(", ")}`);
    lines.push(`      query: ${m.query}`);
  }
  if (r.misses.length > WORST_SHOWN) lines.push(`  … ${r.misses.length - WORST_SHOWN} more alerts not right at rank 1 (all in the JSON)`);
  lines.push("", "most confident suggestions for negatives (no right answer exists), without the name:");
  for (const f of r.falseSuggestions.slice(0, 6)) lines.push(`  ${f.alert}: ${f.got.join(", ")}`);
  return lines;
}

function bestLine(c: Calibration): string {
  const range = c.plateau.length > 1 ? ` (within 0.5 points: ${c.plateau.map((f) => f.toFixed(2)).join(", ")})` : "";
  return `${c.best.floor.toFixed(2)}: (a) ${pct(c.best.positivesShown)}, (b) ${pct(c.best.negativesSuggested)}${range}${c.atDefault ? `; at the default: (a) ${pct(c.atDefault.positivesShown)}, (b) ${pct(c.atDefault.negativesSuggested)}` : ""}`;
}

function groupCell(m: RankingMetrics | undefined): string {
  return m ? `${pct(m.recallAt3)} of ${m.alerts}` : "–";
}

const signedPct = (share: number) => `${share >= 0 ? "+" : ""}${pct(share)}`;

/** The query similarity search sees without the name, on one line and cut short. */
function queryPreview(alert: LabelledAlert): string {
  const text = [alert.annotations.summary, alert.annotations.description, alert.annotations.message].filter(Boolean).join(" / ").replace(/\s+/g, " ");
  return text.length > 140 ? `${text.slice(0, 137)}…` : text;
}

function countGroups(alerts: readonly LabelledAlert[]): string {
  const counts = new Map<string, number>();
  for (const a of alerts) counts.set(a.group, (counts.get(a.group) ?? 0) + 1);
  return [...counts].map(([g, n]) => `${n} ${g}`).join(", ");
}

/** from, from+step, … to (inclusive), without floating-point drift in the printed values. */
function steps(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let i = 0; from + i * step <= to + 1e-9; i++) out.push(Math.round((from + i * step) * 100) / 100);
  return out;
}

function log(message: string): void {
  console.log(`  [retrieval] ${message}`);
}
