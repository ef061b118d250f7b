/**
 * The trust ladder's default thresholds, judged the way the design asks: by simulation, next to
 * the exact probabilities, and with the arithmetic that says what any rule could achieve.
 *
 * - Simulation: for true success rates 70–100 %, histories driven by `evaluate` itself. While a
 *   runbook is at manual or prompted every run is approved by a person; at standard runs are
 *   unattended; every run is followed by one evaluation, and its level is what the policy says.
 *   A history ends at 50 approved runs or 200 runs in all (a runbook at standard can run alone
 *   for a long time). Reported: how many reach prompted and standard within 10, 20 and 50
 *   approved runs, and what happens once at standard (stints, failed unattended runs).
 * - Exact: the same probabilities by dynamic programming over (level, successes, failures, last
 *   runs), with `evaluate` deciding every transition, so simulation and policy check each other.
 * - Feasibility: whether the design's two goals can hold together at all, and the best any rule
 *   of a given shape can do (see `feasibility`).
 *
 * Everything is in this process and pure: no database, no service.
 */
import { defaultThresholds, evaluate, recentWindow, runsToStandard, type Level, type Outcome, type RunRecord, type TrustContext, type TrustThresholds } from "../src/trust/policy.ts";
import { machineEnvironment } from "./lib/infra.ts";
import { repoRoot } from "./lib/process.ts";
import { round2, seededRandom } from "./lib/stats.ts";
import { pct, table } from "./lib/table.ts";
import type { BenchCheck, BenchResult } from "./lib/types.ts";

const HISTORIES = Number(process.env.BENCH_TRUST_HISTORIES ?? 10_000);
/** High risk only has to show a zero, and the cap makes it certain; fewer histories say so as well. */
const HIGH_RISK_HISTORIES = Math.max(1, Math.round(HISTORIES / 5));
const SEED = Number(process.env.BENCH_TRUST_SEED ?? 20_251_118);
const RATES = [0.7, 0.8, 0.9, 0.95, 0.99, 1] as const;
const HORIZONS = [10, 20, 50] as const;
const APPROVED_LIMIT = 50;
const TOTAL_LIMIT = 200;

/** The design's goals. */
const SAFETY = { rate: 0.8, within: 50, below: 0.05 } as const;
const LIVENESS = { rate: 0.99, within: 20, atLeast: 0.9 } as const;

const DAY = 86_400_000;
const EPOCH = Date.UTC(2025, 0, 1);

// ---------------------------------------------------------------------------------------------
// Simulation

interface History {
  /** Approved runs so far when the runbook first reached the level; null if it never did. */
  firstPrompted: number | null;
  firstStandard: number | null;
  approved: number;
  unattended: number;
  unattendedFailed: number;
  /** Times it was promoted to standard. */
  stints: number;
  /** The most failed unattended runs within one stint at standard: 1 when demotion is immediate. */
  worstStint: number;
}

function simulate(rate: number, context: TrustContext, random: () => number, thresholds: TrustThresholds): History {
  const runs: RunRecord[] = [];
  let level: Level = "manual";
  const h: History = { firstPrompted: null, firstStandard: null, approved: 0, unattended: 0, unattendedFailed: 0, stints: 0, worstStint: 0 };
  let stintFailures = 0;
  while (h.approved < APPROVED_LIMIT && runs.length < TOTAL_LIMIT) {
    const unattended = level === "standard";
    const outcome: Outcome = random() < rate ? "succeeded" : "failed";
    runs.push({ outcome, unattended, at: new Date(EPOCH + runs.length * DAY) });
    if (unattended) {
      h.unattended++;
      if (outcome === "failed") {
        h.unattendedFailed++;
        stintFailures++;
      }
    } else {
      h.approved++;
    }
    const next: Level = evaluate(level, runs, context, thresholds).level;
    if (next === "standard" && level !== "standard") {
      h.stints++;
      stintFailures = 0;
    }
    h.worstStint = Math.max(h.worstStint, stintFailures);
    level = next;
    if (level !== "manual" && h.firstPrompted === null) h.firstPrompted = h.approved;
    if (level === "standard" && h.firstStandard === null) h.firstStandard = h.approved;
  }
  return h;
}

interface RateSummary {
  rate: number;
  histories: number;
  prompted: Record<number, number>;
  standard: Record<number, number>;
  reachedStandard: number;
  /** Over histories that reached standard. */
  afterStandard: { stintsMean: number; stintsMax: number; unattendedMean: number; unattendedFailedMean: number; unattendedFailedMax: number; worstStint: number };
  medianApprovedToStandard: number | null;
}

function summarizeRate(rate: number, histories: readonly History[]): RateSummary {
  const share = (pick: (h: History) => number | null, within: number) => histories.filter((h) => pick(h) !== null && pick(h)! <= within).length / histories.length;
  const reached = histories.filter((h) => h.firstStandard !== null);
  const mean = (f: (h: History) => number) => (reached.length > 0 ? round2(reached.reduce((a, h) => a + f(h), 0) / reached.length) : Number.NaN);
  const max = (f: (h: History) => number) => reached.reduce((a, h) => Math.max(a, f(h)), 0);
  const times = reached.map((h) => h.firstStandard!).sort((a, b) => a - b);
  return {
    rate,
    histories: histories.length,
    prompted: Object.fromEntries(HORIZONS.map((n) => [n, share((h) => h.firstPrompted, n)])),
    standard: Object.fromEntries(HORIZONS.map((n) => [n, share((h) => h.firstStandard, n)])),
    reachedStandard: reached.length,
    afterStandard: {
      stintsMean: mean((h) => h.stints),
      stintsMax: max((h) => h.stints),
      unattendedMean: mean((h) => h.unattended),
      unattendedFailedMean: mean((h) => h.unattendedFailed),
      unattendedFailedMax: max((h) => h.unattendedFailed),
      worstStint: max((h) => h.worstStint),
    },
    // Over all histories, so "null" means fewer than half got there within the limit.
    medianApprovedToStandard: times.length * 2 > histories.length ? times[Math.ceil(histories.length / 2) - 1]! : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Exact: the policy itself, by dynamic programming

/**
 * P(reached prompted / standard within n approved runs), n = 0..horizon, for i.i.d. outcomes at
 * `rate`. Until it first reaches standard every run is approved, so the state is the level, the
 * counts and the last `recentWindow` outcomes — all `evaluate` decides from — plus whether it has
 * been at prompted before. Each transition asks `evaluate` on a record with that state (older
 * runs: the failures, then the successes); the transitions do not depend on the rate, so they are
 * computed once per context and reused.
 */
function createExactReach(context: TrustContext, thresholds: TrustThresholds, horizon: number) {
  const window = recentWindow(thresholds);
  const mask = (1 << window) - 1;
  const memo = new Map<string, Level>();
  const step = (level: Level, failures: number, successes: number, recent: number, length: number, outcome: Outcome): Level => {
    const key = `${level}|${failures}|${successes}|${recent}|${length}|${outcome}`;
    let next = memo.get(key);
    if (next === undefined) {
      const recentOutcomes: Outcome[] = [];
      for (let i = length - 1; i >= 0; i--) recentOutcomes.push((recent >> i) & 1 ? "failed" : "succeeded");
      const olderFailures = failures - recentOutcomes.filter((o) => o === "failed").length;
      const olderSuccesses = successes - recentOutcomes.filter((o) => o === "succeeded").length;
      const runs: RunRecord[] = [
        ...Array.from({ length: olderFailures }, () => ({ outcome: "failed" as const, unattended: false })),
        ...Array.from({ length: olderSuccesses }, () => ({ outcome: "succeeded" as const, unattended: false })),
        ...recentOutcomes.map((o) => ({ outcome: o, unattended: false })),
        { outcome, unattended: false },
      ];
      next = evaluate(level, runs, context, thresholds).level;
      memo.set(key, next);
    }
    return next;
  };

  return (rate: number) => {
    interface State { level: Level; everPrompted: boolean; failures: number; recent: number; length: number; p: number }
    let states: State[] = [{ level: "manual", everPrompted: false, failures: 0, recent: 0, length: 0, p: 1 }];
    const prompted = [0];
    const standard = [0];
    for (let n = 1; n <= horizon; n++) {
      const next = new Map<string, State>();
      let hitPrompted = 0;
      let hitStandard = 0;
      for (const s of states) {
        for (const outcome of ["succeeded", "failed"] as const) {
          const p = s.p * (outcome === "succeeded" ? rate : 1 - rate);
          if (p === 0) continue;
          const level = step(s.level, s.failures, n - 1 - s.failures, s.recent, s.length, outcome);
          if (level !== "manual" && !s.everPrompted) hitPrompted += p;
          // Standard is where this calculation stops: from there runs are unattended.
          if (level === "standard") {
            hitStandard += p;
            continue;
          }
          const failures = s.failures + (outcome === "failed" ? 1 : 0);
          const recent = ((s.recent << 1) | (outcome === "failed" ? 1 : 0)) & mask;
          const length = Math.min(window, s.length + 1);
          const everPrompted = s.everPrompted || level !== "manual";
          const key = `${level}|${everPrompted}|${failures}|${recent}|${length}`;
          const existing = next.get(key);
          if (existing) existing.p += p;
          else next.set(key, { level, everPrompted, failures, recent, length, p });
        }
      }
      states = [...next.values()];
      prompted.push(prompted[n - 1]! + hitPrompted);
      standard.push(standard[n - 1]! + hitStandard);
    }
    return { prompted, standard };
  };
}

// ---------------------------------------------------------------------------------------------
// Feasibility: what any rule of a given shape can achieve

/**
 * An abstract standard rule, for the frontier: promote after approved run n when the record has
 * f failures, n ≥ minRuns[f], and the last `streak` runs succeeded. Every rule that decides from
 * (n, f) alone and never holds more successes against a record is of this form ("order-
 * independent"); `streak` > 0 adds recency. No prompted step, so no detours through manual.
 * Returns P(promoted within n runs), n = 0..horizon.
 */
function abstractReach(rate: number, minRuns: readonly number[], streak: number, horizon: number): number[] {
  const maxF = minRuns.length - 1;
  const cap = Math.max(1, streak);
  // state[f][s]: not yet promoted, f failures, s = current run of successes (capped at `cap`).
  let state = Array.from({ length: maxF + 1 }, () => new Float64Array(cap + 1));
  state[0]![0] = 1;
  const out = [0];
  let reached = 0;
  for (let n = 1; n <= horizon; n++) {
    const next = Array.from({ length: maxF + 1 }, () => new Float64Array(cap + 1));
    for (let f = 0; f <= maxF; f++) {
      for (let s = 0; s <= cap; s++) {
        const p = state[f]![s]!;
        if (p === 0) continue;
        const ok = Math.min(cap, s + 1);
        // A clean record is all streak: recency only ever holds back records with a failure.
        if (n >= minRuns[f]! && (f === 0 || ok >= streak)) reached += p * rate;
        else next[f]![ok]! += p * rate;
        // A failure resets the streak, so it only promotes with no recency asked (streak 0).
        if (f + 1 <= maxF) {
          if (n >= minRuns[f + 1]! && streak === 0) reached += p * (1 - rate);
          else next[f + 1]![0]! += p * (1 - rate);
        }
      }
    }
    state = next;
    out.push(reached);
  }
  return out;
}

interface FrontierRow {
  cleanRuns: number;
  /** Best over rules whose P(80 % reaches within 50) stays under the budget. */
  budget: number;
  orderIndependent: { safety: number; liveness20: number; liveness50: number; oneFailureAt: number; twoFailuresAt: number } | null;
  withRecency: { safety: number; liveness20: number; liveness50: number; oneFailureAt: number; twoFailuresAt: number; streak: number } | null;
}

/**
 * With the design's "> 95 %", a record with f failures can be promoted at n only when
 * (n − f)/n > 0.95: f = 0 from the start, f = 1 from 21 runs, f = 2 from 41, f = 3 not within 50.
 * For each length of clean record that promotes, the rule with the most 99 % runbooks at standard
 * within 50 runs that keeps the 80 % runbook under the budget, by exhaustive search.
 */
function frontier(budget: number, thresholds: TrustThresholds): FrontierRow[] {
  const never = APPROVED_LIMIT + 1;
  const rows: FrontierRow[] = [];
  for (let clean = 13; clean <= 17; clean++) {
    const k0 = Math.max(clean, thresholds.standardMinApproved);
    let plain: FrontierRow["orderIndependent"] = null;
    let recency: FrontierRow["withRecency"] = null;
    for (let n1 = 21; n1 <= never; n1++) {
      // Fewer failures never count against a record: two failures no sooner than one.
      for (let n2 = Math.max(41, n1); n2 <= never; n2++) {
        for (const streak of [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15]) {
          const minRuns = [k0, n1, n2];
          const safety = abstractReach(SAFETY.rate, minRuns, streak, APPROVED_LIMIT)[APPROVED_LIMIT]!;
          if (safety >= budget) continue;
          const live = abstractReach(LIVENESS.rate, minRuns, streak, APPROVED_LIMIT);
          const row = { safety, liveness20: live[20]!, liveness50: live[APPROVED_LIMIT]!, oneFailureAt: n1, twoFailuresAt: n2 };
          if (streak === 0 && (!plain || row.liveness50 > plain.liveness50)) plain = row;
          if (streak > 0 && (!recency || row.liveness50 > recency.liveness50)) recency = { ...row, streak };
        }
      }
    }
    rows.push({ cleanRuns: clean, budget, orderIndependent: plain, withRecency: recency });
  }
  return rows;
}

/**
 * Without "> 95 %": the most 99 % runbooks at standard within 20 runs that any rule can have while
 * the 80 % runbook reaches it within 20 in under 5 %, by Neyman–Pearson. Both rates make every
 * record with f failures equally likely, and the likelihood ratio falls with f, so the best set
 * of 20-run records takes the fewest failures first. `bound` lets the last class in partly (what
 * a coin toss could do: the true upper limit); `liveness` takes whole records only, as a rule
 * must, and stops there.
 */
function neymanPearson20(): { bound: number; safety: number; liveness: number; taken: { failures: number; records: number; of: number }[] } {
  const n = 20;
  let safety = 0;
  let liveness = 0;
  let bound = Number.NaN;
  const taken: { failures: number; records: number; of: number }[] = [];
  for (let f = 0; f <= n; f++) {
    const each0 = (1 - SAFETY.rate) ** f * SAFETY.rate ** (n - f);
    const each1 = (1 - LIVENESS.rate) ** f * LIVENESS.rate ** (n - f);
    const all = binomial(n, f);
    const room = (SAFETY.below - safety) / each0;
    if (Number.isNaN(bound) && room < all) bound = liveness + room * each1;
    // Strictly under the budget: the largest whole number of records below `room`.
    const fit = Math.min(all, Math.ceil(room) - 1);
    if (fit > 0) {
      safety += fit * each0;
      liveness += fit * each1;
      taken.push({ failures: f, records: fit, of: all });
    }
    // Past the first class that does not fit whole, what is left would buy a fraction of a point.
    if (fit < all) break;
  }
  return { bound, safety, liveness, taken };
}

/** The relaxed family for the question "what if the design dropped > 95 %": f ≤ 1, search k0, k1, streak. */
function relaxedBest(): { cleanRuns: number; oneFailureAt: number; streak: number; safety: number; liveness20: number; liveness50: number } {
  let best: ReturnType<typeof relaxedBest> | null = null;
  for (let k0 = 5; k0 <= 20; k0++) {
    for (let k1 = k0; k1 <= APPROVED_LIMIT + 1; k1++) {
      for (const streak of [0, 1, 2, 3, 5, 7, 10, 15]) {
        const safety = abstractReach(SAFETY.rate, [k0, k1], streak, APPROVED_LIMIT)[APPROVED_LIMIT]!;
        if (safety >= SAFETY.below) continue;
        const live = abstractReach(LIVENESS.rate, [k0, k1], streak, APPROVED_LIMIT);
        if (!best || live[20]! > best.liveness20) best = { cleanRuns: k0, oneFailureAt: k1, streak, safety, liveness20: live[20]!, liveness50: live[APPROVED_LIMIT]! };
      }
    }
  }
  return best!;
}

function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return Math.round(c);
}

// ---------------------------------------------------------------------------------------------

export async function run(): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const env = await machineEnvironment(repoRoot);
  const thresholds = defaultThresholds;
  const low: TrustContext = { risk: "low", lockdown: false };
  const high: TrustContext = { risk: "high", lockdown: false };

  const started = Date.now();
  const summaries: RateSummary[] = [];
  const highRisk: { rate: number; histories: number; reachedStandard: number }[] = [];
  RATES.forEach((rate, i) => {
    const random = seededRandom(SEED + i);
    summaries.push(summarizeRate(rate, Array.from({ length: HISTORIES }, () => simulate(rate, low, random, thresholds))));
    const randomHigh = seededRandom(SEED + 1000 + i);
    const histories = Array.from({ length: HIGH_RISK_HISTORIES }, () => simulate(rate, high, randomHigh, thresholds));
    highRisk.push({ rate, histories: histories.length, reachedStandard: histories.filter((h) => h.firstStandard !== null).length });
  });
  const simulationSeconds = Math.round((Date.now() - started) / 100) / 10;
  log(`simulated ${RATES.length} × (${HISTORIES} + ${HIGH_RISK_HISTORIES} high-risk) histories in ${simulationSeconds} s`);

  const exactLow = createExactReach(low, thresholds, APPROVED_LIMIT);
  const exactHigh = createExactReach(high, thresholds, APPROVED_LIMIT);
  const exact = RATES.map((rate) => ({ rate, ...exactLow(rate), highRiskStandard: exactHigh(rate).standard[APPROVED_LIMIT]! }));

  const cleanRecords = Array.from({ length: 8 }, (_, i) => i + 10).map((k) => ({ k, liveness: LIVENESS.rate ** k, safety: SAFETY.rate ** k }));
  const frontier5 = frontier(SAFETY.below, thresholds);
  const frontierMargin = frontier(0.045, thresholds);
  const np = neymanPearson20();
  const relaxed = relaxedBest();
  log(`exact calculations and feasibility search done in ${Math.round((Date.now() - started) / 100 - simulationSeconds * 10) / 10} s`);

  // Agreement of simulation and exact, in standard errors of the simulated share.
  let worstZ = 0;
  for (const [i, s] of summaries.entries()) {
    for (const n of HORIZONS) {
      for (const [sim, ex] of [[s.prompted[n]!, exact[i]!.prompted[n]!], [s.standard[n]!, exact[i]!.standard[n]!]] as const) {
        const se = Math.sqrt(Math.max(ex * (1 - ex), 1 / HISTORIES) / HISTORIES);
        worstZ = Math.max(worstZ, Math.abs(sim - ex) / se);
      }
    }
  }

  const both = (sim: number, ex: number) => `${pct(sim)} (${(ex * 100).toFixed(2)})`;
  const byRate = (rate: number) => summaries.find((s) => s.rate === rate)!;
  const exactAt = (rate: number) => exact.find((e) => e.rate === rate)!;
  const unsafe = summaries.filter((s) => s.rate <= SAFETY.rate);
  const safetyPass = unsafe.every((s) => s.standard[SAFETY.within]! < SAFETY.below);
  const live = byRate(LIVENESS.rate);
  const livenessPass = live.standard[LIVENESS.within]! >= LIVENESS.atLeast;
  const highReached = highRisk.reduce((a, r) => a + r.reachedStandard, 0);
  const highTotal = highRisk.reduce((a, r) => a + r.histories, 0);
  const worstStint = Math.max(...summaries.map((s) => s.afterStandard.worstStint));
  const cleanNeeded = runsToStandard(0, thresholds);
  const oneFailureNeeded = runsToStandard(1, thresholds);
  const twoFailuresNeeded = runsToStandard(2, thresholds);
  const maxK = (limit: number) => cleanRecords.filter((c) => c.liveness >= limit).reduce((a, c) => Math.max(a, c.k), 0);
  const minK = (limit: number) => cleanRecords.filter((c) => c.safety < limit).reduce((a, c) => Math.min(a, c.k), Infinity);

  const checks: BenchCheck[] = [
    {
      name: `a runbook that succeeds ${SAFETY.rate * 100} % of the time or less reaches standard within ${SAFETY.within} approved runs in under ${SAFETY.below * 100} % of histories`,
      must: true,
      pass: safetyPass,
      detail: unsafe.map((s) => `${s.rate * 100} %: ${pct(s.standard[SAFETY.within]!)} (exact ${(exactAt(s.rate).standard[SAFETY.within]! * 100).toFixed(2)} %)`).join(", "),
    },
    {
      name: `a runbook that succeeds ${LIVENESS.rate * 100} % of the time reaches standard within ${LIVENESS.within} approved runs in at least ${LIVENESS.atLeast * 100} % of histories`,
      must: true,
      pass: livenessPass,
      detail:
        `${pct(live.standard[LIVENESS.within]!)} (exact ${(exactAt(LIVENESS.rate).standard[LIVENESS.within]! * 100).toFixed(2)} % = 0.99^${cleanNeeded}), ` +
        `short by ${((LIVENESS.atLeast - exactAt(LIVENESS.rate).standard[LIVENESS.within]!) * 100).toFixed(2)} points; not achievable together with the first goal under "> 95 %" (see feasibility)`,
    },
    {
      name: "risk: high runbooks never reach standard",
      must: true,
      pass: highReached === 0 && exact.every((e) => e.highRiskStandard === 0),
      detail: `${highReached} of ${highTotal} simulated histories; exact probability ${Math.max(...exact.map((e) => e.highRiskStandard))}`,
    },
    {
      name: "a failed unattended run ends the stint at standard at once",
      must: true,
      pass: worstStint <= 1,
      detail: `at most ${worstStint} failed unattended run(s) within one stint at standard, over all histories`,
    },
    {
      name: "simulation agrees with the exact calculation",
      must: false,
      pass: worstZ <= 4,
      detail: `largest difference ${worstZ.toFixed(2)} standard errors of the simulated share`,
    },
  ];

  const t = thresholds;
  const report = [
    `thresholds: prompted ≥ ${t.promptedMinApproved} approved runs, none failed in the last ${t.promptedCleanRuns}; ` +
      `standard ≥ ${t.standardMinApproved} approved runs, success rate > ${t.standardMinSuccessRate * 100} %, Wilson lower bound (z = ${t.wilsonZ}) ≥ ${t.standardMinWilsonLower * 100} %, none failed in the last ${t.standardCleanRuns}; ` +
      `repeated failure (→ manual): ${t.repeatedFailures} failed in the last ${t.repeatedFailureWindow} runs`,
    `  so a record reaches standard with no failure at ${cleanNeeded} runs, with one at ${oneFailureNeeded}, with two at ${twoFailuresNeeded}`,
    `${HISTORIES} histories per rate (seed ${SEED}), ${HIGH_RISK_HISTORIES} more at risk: high; a history ends at ${APPROVED_LIMIT} approved runs or ${TOTAL_LIMIT} runs in all`,
    "",
    "reached within N approved runs: simulated share (exact %)",
    ...table(
      ["true rate", ...HORIZONS.map((n) => `prompted ≤ ${n}`), ...HORIZONS.map((n) => `standard ≤ ${n}`), "median runs to standard"],
      summaries.map((s, i) => [
        `${s.rate * 100} %`,
        ...HORIZONS.map((n) => both(s.prompted[n]!, exact[i]!.prompted[n]!)),
        ...HORIZONS.map((n) => both(s.standard[n]!, exact[i]!.standard[n]!)),
        s.medianApprovedToStandard,
      ]),
    ),
    "",
    "once at standard (per history that got there): stints at standard, unattended runs, failed unattended runs",
    ...table(
      ["true rate", "histories", "stints mean", "stints max", "unattended mean", "failed unattended mean", "failed unattended max", "max failed per stint"],
      summaries.map((s) => [`${s.rate * 100} %`, s.reachedStandard, s.afterStandard.stintsMean, s.afterStandard.stintsMax, s.afterStandard.unattendedMean, s.afterStandard.unattendedFailedMean, s.afterStandard.unattendedFailedMax, s.afterStandard.worstStint]),
    ),
    `risk: high: ${highReached} of ${highTotal} histories reached standard (${highRisk.map((r) => `${r.rate * 100} %: ${r.reachedStandard}/${r.histories}`).join(", ")})`,
    "",
    "feasibility (exact):",
    `  With "> 95 %", a runbook can reach standard within 20 runs only with a clean record, so for any rule`,
    `  P(99 % within 20) = 0.99^k and P(80 % within 50) ≥ 0.8^k, k = the length of clean record it promotes:`,
    ...table(
      ["  k", "0.99^k", "0.8^k"],
      cleanRecords.map((c) => [`  ${c.k}`, `${(c.liveness * 100).toFixed(2)} %`, `${(c.safety * 100).toFixed(2)} %`]),
    ),
    `  ≥ ${LIVENESS.atLeast * 100} % needs k ≤ ${maxK(LIVENESS.atLeast)}; < ${SAFETY.below * 100} % needs k ≥ ${minK(SAFETY.below)}: no rule meets both. Within 10 runs it is k ≤ 10 again, so 0 % for every safe rule.`,
    `  Best rules per clean-record length k (records with failures: one from n1 runs, two from n2; "recency": also the last m runs clean),`,
    `  keeping P(80 % within 50) under the budget, most 99 % runbooks at standard within 50:`,
    ...table(
      ["  budget", "k", "99 % ≤ 20", "order-independent: 80 % ≤ 50", "99 % ≤ 50", "n1/n2", "with recency: 80 % ≤ 50", "99 % ≤ 50", "n1/n2/m"],
      [...frontier5, ...frontierMargin].map((r) => [
        `  ${r.budget * 100} %`,
        r.cleanRuns,
        `${(LIVENESS.rate ** Math.max(r.cleanRuns, thresholds.standardMinApproved) * 100).toFixed(2)} %`,
        r.orderIndependent ? `${(r.orderIndependent.safety * 100).toFixed(2)} %` : "none",
        r.orderIndependent ? `${(r.orderIndependent.liveness50 * 100).toFixed(2)} %` : null,
        r.orderIndependent ? `${runsLabel(r.orderIndependent.oneFailureAt)}/${runsLabel(r.orderIndependent.twoFailuresAt)}` : null,
        r.withRecency ? `${(r.withRecency.safety * 100).toFixed(2)} %` : "none",
        r.withRecency ? `${(r.withRecency.liveness50 * 100).toFixed(2)} %` : null,
        r.withRecency ? `${runsLabel(r.withRecency.oneFailureAt)}/${runsLabel(r.withRecency.twoFailuresAt)}/${r.withRecency.streak}` : null,
      ]),
    ),
    `  The defaults: k = ${cleanNeeded}, n1 = ${oneFailureNeeded}, n2 = ${twoFailuresNeeded}: exact 80 % ≤ 50 ${(exactAt(0.8).standard[50]! * 100).toFixed(2)} %, 99 % ≤ 20 ${(exactAt(0.99).standard[20]! * 100).toFixed(2)} %, 99 % ≤ 50 ${(exactAt(0.99).standard[50]! * 100).toFixed(2)} %.`,
    `  Without "> 95 %" (not the design): within 20 runs, counting failures only, "0 failures" gives ${(SAFETY.rate ** 20 * 100).toFixed(2)} % / ${(LIVENESS.rate ** 20 * 100).toFixed(2)} % (80 % / 99 %),`,
    `  "≤ 1 failure" ${(pAtMost1(SAFETY.rate) * 100).toFixed(2)} % / ${(pAtMost1(LIVENESS.rate) * 100).toFixed(2)} %. Any rule at all (Neyman–Pearson, 80 % kept under ${SAFETY.below * 100} % within 20): at most ${(np.bound * 100).toFixed(2)} %;`,
    `  ${(np.liveness * 100).toFixed(2)} % (80 %: ${(np.safety * 100).toFixed(2)} %) by promoting, at run 20, ${np.taken.map((x) => `${x.records} of ${x.of} orders with ${x.failures} failure${x.failures === 1 ? "" : "s"}`).join(", ")},`,
    `  and never anything later: the 5 % is spent by run 20.`,
    `  A rule that keeps promoting after run 20 (one failure allowed, search over k, n1, m; 80 % within 50 under ${SAFETY.below * 100} %) does best with`,
    `  k = ${relaxed.cleanRuns}, n1 = ${relaxed.oneFailureAt}, m = ${relaxed.streak}: 99 % within 20 ${(relaxed.liveness20 * 100).toFixed(2)} %, within 50 ${(relaxed.liveness50 * 100).toFixed(2)} %, 80 % within 50 ${(relaxed.safety * 100).toFixed(2)} %.`,
  ];

  return {
    name: "trust",
    title: "trust ladder: how often runbooks reach standard, simulated and exact",
    startedAt,
    finishedAt: new Date().toISOString(),
    report,
    checks,
    data: {
      environment: env,
      thresholds,
      derived: { cleanRunsToStandard: cleanNeeded, oneFailureRunsToStandard: oneFailureNeeded, twoFailuresRunsToStandard: twoFailuresNeeded },
      settings: { histories: HISTORIES, highRiskHistories: HIGH_RISK_HISTORIES, seed: SEED, approvedLimit: APPROVED_LIMIT, totalLimit: TOTAL_LIMIT, simulationSeconds },
      simulated: summaries,
      exact: exact.map((e) => ({
        rate: e.rate,
        prompted: Object.fromEntries(HORIZONS.map((n) => [n, e.prompted[n]])),
        standard: Object.fromEntries(HORIZONS.map((n) => [n, e.standard[n]])),
        highRiskStandard: e.highRiskStandard,
      })),
      highRisk,
      feasibility: { cleanRecords, frontier: [...frontier5, ...frontierMargin], neymanPearson20: np, relaxedBest: relaxed },
    },
  };
}

/** P(at most one failure in 20 runs). */
function pAtMost1(rate: number): number {
  return rate ** 20 + 20 * (1 - rate) * rate ** 19;
}

function runsLabel(n: number): string {
  return n > APPROVED_LIMIT ? "never" : String(n);
}

function log(message: string): void {
  console.log(`  [trust] ${message}`);
}
