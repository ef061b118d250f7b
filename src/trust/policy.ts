/**
 * The trust ladder's policy: from a runbook's record of runs, the level it should be at now.
 *
 * Pure: the execution worker calls it after every recorded run (and when lockdown or a pin
 * changes), and `npm run bench -- trust` drives the very same function through simulated
 * histories to check the defaults against the design's goals. Everything it decides from is in
 * its arguments, so a level change can be recomputed from the recorded rows and audited.
 *
 * Decisions made here (the design leaves them open):
 *
 * - **Unattended runs count as evidence.** Their successes and failures both go into the success
 *   rate and the confidence bound: they are real outcomes of the same runbook, and leaving them
 *   out would make a runbook that has run alone a hundred times look as unproven as a new one.
 *   Counts the design states in approved runs ("≥ 3 approved", "≥ 5 approved") stay in approved
 *   runs, so a person has always seen it work that often.
 * - **Recency looks at every run, approved or not.** "None failed in the last 3" must see an
 *   unattended failure: otherwise a runbook demoted by one would look clean to a window over
 *   approved runs only, and could be promoted straight back.
 * - **Demotions fire only on the latest run failing.** Re-evaluating an unchanged record (a
 *   lockdown lifted, a restart) then never demotes twice for the same failure.
 * - **Repeated failure** is `repeatedFailures` (2) failed among the last `repeatedFailureWindow`
 *   (3) runs, the latest included: two in a row, or two with one success between. Either way
 *   the runbook is not reliably working, and it drops to manual from any level.
 * - **A pin** is a level a person set by hand (promote or demote in the thread). It holds until
 *   the next failed run: the policy does not move a pinned runbook on its record — a person
 *   decided, maybe for reasons the record cannot see — but failure still wins. A run that fails
 *   after the pin ends it (`pin: "released"`, the caller clears it) and the usual rules apply at
 *   once, so a runbook pinned at standard that fails drops to prompted like any other. A pin at
 *   manual is the exception: a failure only confirms it, and only a person lifts it. Lockdown
 *   and the high-risk cap apply on top of a pin without ending it: after a lockdown the pinned
 *   level comes back.
 * - **One step per evaluation** for promotions, and the service evaluates once per recorded run,
 *   so manual → standard takes at least two runs, each announced.
 */
import type { Risk, TrustLevel } from "../runbooks/types.ts";
import { plural } from "../util/plural.ts";
import { oneSidedConfidence, wilsonLowerBound } from "./wilson.ts";

export type Level = TrustLevel;
export type Outcome = "succeeded" | "failed";

export interface RunRecord {
  outcome: Outcome;
  /** It ran at `standard` without a person; false when a person approved it. */
  unattended: boolean;
  at?: Date;
}

/**
 * Every number the policy uses. The defaults are judged by `npm run bench -- trust`, which also
 * prints the exact arithmetic behind them; the numbers quoted below come from there.
 */
export interface TrustThresholds {
  /** manual → prompted: at least this many approved runs. */
  promptedMinApproved: number;
  /** manual → prompted: none of the last this many runs failed. */
  promptedCleanRuns: number;
  /** prompted → standard: at least this many approved runs. */
  standardMinApproved: number;
  /** prompted → standard: success rate over all runs strictly above this. */
  standardMinSuccessRate: number;
  /** The z of the Wilson bound: 1.2816 is one-sided 90 % confidence. */
  wilsonZ: number;
  /** prompted → standard: the Wilson lower bound on the success rate at least this. */
  standardMinWilsonLower: number;
  /** prompted → standard: none of the last this many runs failed. */
  standardCleanRuns: number;
  /** Repeated failure (→ manual): `repeatedFailures` failed among the last `repeatedFailureWindow` runs. */
  repeatedFailureWindow: number;
  repeatedFailures: number;
}

export const defaultThresholds: TrustThresholds = Object.freeze({
  // The design's defaults for prompted: three approved runs, none failed in the last three. Cheap
  // to reach on purpose: at prompted a person still approves every run, just with one tap.
  promptedMinApproved: 3,
  promptedCleanRuns: 3,
  // The design's floor for standard. The Wilson bound below asks for more anyway (15 clean
  // runs); this keeps a loosened bound from ever promoting on a handful of runs.
  standardMinApproved: 5,
  // The design's "> 95 % success", strictly: 19 of 20 is not enough, 20 of 21 is. With it, a
  // runbook can reach standard within its first 20 runs only with no failure at all.
  standardMinSuccessRate: 0.95,
  // "90 % confident the runbook succeeds at least 90 % of the time." A clean record passes at
  // 15 runs (15/(15 + 1.2816²) = 90.1 %; 14 give 89.5 %), one failure at 32 runs, two at 47.
  // Exactly (bench/trust.ts): a runbook that truly succeeds 80 % of the time reaches standard
  // within 50 approved runs in 3.9 % of histories (0.8¹⁵ = 3.5 % of that is 15 lucky successes
  // in a row), under the design's 5 % with room for simulation noise; one that succeeds 99 %
  // gets there within 20 in 86.0 % (0.99¹⁵) and within 50 in 99.3 %.
  // The design also asks for 90 % within 20, which no rule with "> 95 %" can give together with
  // the 5 %: reaching standard within 20 needs a clean record of some length k, and 0.99^k ≥ 90 %
  // needs k ≤ 10 while 0.8^k < 5 % needs k ≥ 14. k = 14 (86.9 %) would leave the 80 % runbook at
  // 4.4 % before any record with a failure could be promoted, too close to 5 % to be sure of;
  // a steeper z (1.645 or 1.96, bound 84 % or 79 %) with the same 15-run clean threshold starts
  // promoting records with one failure sooner (26 or 23 runs) and spends the 5 % there instead
  // (the 80 % runbook at 4.8 % or 5.9 %); at 90 % confidence they wait for 32 runs, hence the margin.
  wilsonZ: 1.2816,
  standardMinWilsonLower: 0.9,
  // Like prompted: a runbook demoted by a failed unattended run has to succeed three times with
  // a person watching before it runs alone again, however good its older record is.
  standardCleanRuns: 3,
  // Two failures among the last three runs: "repeated", whether back to back or with one success
  // between (a flapping runbook is not working either). One failure alone is the ordinary cost
  // of running things; it only costs standard its unattended runs.
  repeatedFailureWindow: 3,
  repeatedFailures: 2,
});

export interface TrustStats {
  /** All runs, approved and unattended. */
  runs: number;
  succeeded: number;
  failed: number;
  /** Runs a person approved. */
  approvedRuns: number;
  approvedSucceeded: number;
  approvedFailed: number;
  /** Over all runs: unattended ones are evidence too (see the top of this file). 0 with no runs. */
  successRate: number;
  /** Wilson lower bound of the success rate over all runs, at `wilsonZ`. */
  wilsonLower: number;
  /** The last `recentWindow(thresholds)` approved runs' outcomes, most recent last. */
  lastApproved: readonly Outcome[];
  /** The last `recentWindow(thresholds)` runs' outcomes, approved or not, most recent last. */
  recent: readonly Outcome[];
  /** Failed runs at the end of the record, approved or not. */
  consecutiveFailures: number;
  unattendedRuns: number;
  unattendedFailed: number;
}

/**
 * How many of the latest runs the policy looks at. Its decisions depend on the level, the counts
 * and these outcomes only (bench/trust.ts relies on that for its exact calculation).
 */
export function recentWindow(thresholds: TrustThresholds = defaultThresholds): number {
  return Math.max(thresholds.promptedCleanRuns, thresholds.standardCleanRuns, thresholds.repeatedFailureWindow);
}

/** The statistics the policy decides from. `runs` oldest first. */
export function computeStats(runs: readonly RunRecord[], thresholds: TrustThresholds = defaultThresholds): TrustStats {
  let succeeded = 0;
  let approvedRuns = 0;
  let approvedSucceeded = 0;
  let unattendedFailed = 0;
  for (const run of runs) {
    const ok = run.outcome === "succeeded";
    if (ok) succeeded++;
    if (run.unattended) {
      if (!ok) unattendedFailed++;
    } else {
      approvedRuns++;
      if (ok) approvedSucceeded++;
    }
  }
  let consecutiveFailures = 0;
  while (consecutiveFailures < runs.length && runs[runs.length - 1 - consecutiveFailures]!.outcome === "failed") consecutiveFailures++;

  const window = recentWindow(thresholds);
  const lastApproved: Outcome[] = [];
  for (let i = runs.length - 1; i >= 0 && lastApproved.length < window; i--) {
    if (!runs[i]!.unattended) lastApproved.unshift(runs[i]!.outcome);
  }
  return {
    runs: runs.length,
    succeeded,
    failed: runs.length - succeeded,
    approvedRuns,
    approvedSucceeded,
    approvedFailed: approvedRuns - approvedSucceeded,
    successRate: runs.length > 0 ? succeeded / runs.length : 0,
    wilsonLower: wilsonLowerBound(succeeded, runs.length, thresholds.wilsonZ),
    lastApproved,
    recent: runs.slice(Math.max(0, runs.length - window)).map((r) => r.outcome),
    consecutiveFailures,
    unattendedRuns: runs.length - approvedRuns,
    unattendedFailed,
  };
}

export interface TrustContext {
  risk: Risk;
  /** While on, everything is at manual. */
  lockdown: boolean;
  /** A level a person set by hand, while the pin holds (see the top of this file). */
  pinned?: Level;
  /**
   * When the pin was set. Failures recorded before it do not end it (the person saw them).
   * Without it, or for a run without `at`, the latest run is taken as newer than the pin.
   */
  pinnedAt?: Date;
}

export interface Evaluation {
  level: Level;
  change: "promote" | "demote" | "none";
  /** One sentence for the announcement in the thread, with the numbers that justified it. */
  reason: string;
  stats: TrustStats;
  /** "released" when a run failed after the pin, which ends it: the caller clears the pin. */
  pin: "none" | "kept" | "released";
}

const rank: Record<Level, number> = { manual: 0, prompted: 1, standard: 2 };

/** The level a runbook should be at after its latest run. `runs` oldest first. */
export function evaluate(current: Level, runs: readonly RunRecord[], context: TrustContext, thresholds: TrustThresholds = defaultThresholds): Evaluation {
  const stats = computeStats(runs, thresholds);
  const latest = runs[runs.length - 1];
  const latestFailed = latest?.outcome === "failed";
  // A failed run newer than the pin ends it, except at manual: there a failure only confirms the
  // person's call, and lifting it is theirs.
  const failedAfterPin = context.pinned !== undefined && latestFailed && !(context.pinnedAt && latest.at && latest.at <= context.pinnedAt);
  const released = failedAfterPin && context.pinned !== "manual";
  const pinned = released ? undefined : context.pinned;
  const pin: Evaluation["pin"] = context.pinned === undefined ? "none" : released ? "released" : "kept";
  const pinNote = released ? `; the level set by hand (${context.pinned}) no longer holds` : "";
  const result = (level: Level, reason: string): Evaluation => ({
    level,
    change: rank[level] > rank[current] ? "promote" : rank[level] < rank[current] ? "demote" : "none",
    reason: reason + pinNote,
    stats,
    pin,
  });
  const moved = (level: Level, why: string) => `${verb(current, level)} ${level}: ${why}`;

  if (context.lockdown) {
    return result("manual", moved("manual", "lockdown is on, nothing runs without a person until it is lifted"));
  }

  // Failure demotes at once. Only on the latest run, so an unchanged record is never demoted twice.
  if (latest && latestFailed && pinned === undefined) {
    const window = stats.recent.slice(-thresholds.repeatedFailureWindow);
    const failures = window.filter((o) => o === "failed").length;
    if (failures >= thresholds.repeatedFailures && current !== "manual") {
      const what = stats.consecutiveFailures >= thresholds.repeatedFailures ? `${stats.consecutiveFailures} runs in a row failed` : `${failures} of the last ${window.length} runs failed`;
      return result("manual", `demoted to manual: ${what}${on(latest.at, " (the latest")}`);
    }
    if (current === "standard") {
      return result("prompted", `demoted to prompted: the ${latest.unattended ? "unattended" : "approved"} run${on(latest.at)} failed`);
    }
  }

  if (pinned !== undefined) {
    if (context.risk === "high" && pinned === "standard") {
      return result("prompted", moved("prompted", "set to standard by hand, but risk: high runbooks never run unattended"));
    }
    return result(pinned, moved(pinned, "set by hand"));
  }

  if (context.risk === "high" && current === "standard") {
    return result("prompted", moved("prompted", "risk: high runbooks never run unattended"));
  }

  if (current === "manual") {
    const missing = promptedMissing(stats, thresholds);
    if (missing) return result("manual", `stays at manual: ${missing}`);
    return result("prompted", `promoted to prompted: ${plural(stats.approvedRuns, "approved run")}, none of the last ${thresholds.promptedCleanRuns} failed`);
  }
  if (current === "prompted") {
    if (context.risk === "high") return result("prompted", "stays at prompted: risk: high runbooks never run unattended");
    const missing = standardMissing(stats, thresholds);
    if (missing) return result("prompted", `stays at prompted: ${missing}`);
    const bound = `${confidence(stats, thresholds)} (needs ${percent(thresholds.standardMinWilsonLower)})`;
    return result("standard", `promoted to standard: ${record(stats)}, ${bound}, none of the last ${thresholds.standardCleanRuns} failed`);
  }
  return result("standard", `stays at standard: ${record(stats)}`);
}

/**
 * The fewest runs at which a record with `failures` failures (and every other run a success)
 * passes standard's success-rate and Wilson conditions; Infinity when none does. For "needs N
 * more successful runs" in announcements, and for the bench's feasibility table.
 */
export function runsToStandard(failures: number, thresholds: TrustThresholds = defaultThresholds): number {
  // With failures fixed, both the rate and the bound only grow with more successes, so the first n
  // that passes is the answer; the cap only stops thresholds no record can meet (a bound of 1).
  for (let n = Math.max(1, failures + 1); n <= 1_000_000; n++) {
    if ((n - failures) / n > thresholds.standardMinSuccessRate && wilsonLowerBound(n - failures, n, thresholds.wilsonZ) >= thresholds.standardMinWilsonLower) return n;
  }
  return Number.POSITIVE_INFINITY;
}

/** Why manual → prompted does not hold yet, or undefined when it does. */
function promptedMissing(stats: TrustStats, t: TrustThresholds): string | undefined {
  if (stats.approvedRuns < t.promptedMinApproved) return `${plural(stats.approvedRuns, "approved run")}, needs ${t.promptedMinApproved}`;
  const failed = stats.recent.slice(-t.promptedCleanRuns).filter((o) => o === "failed").length;
  if (failed > 0) return `${failed} of the last ${t.promptedCleanRuns} runs failed, needs ${t.promptedCleanRuns} in a row to succeed`;
  return undefined;
}

/** Why prompted → standard does not hold yet, or undefined when it does. */
function standardMissing(stats: TrustStats, t: TrustThresholds): string | undefined {
  if (stats.approvedRuns < t.standardMinApproved) return `${plural(stats.approvedRuns, "approved run")}, needs ${t.standardMinApproved}`;
  const failed = stats.recent.slice(-t.standardCleanRuns).filter((o) => o === "failed").length;
  if (failed > 0) return `${failed} of the last ${t.standardCleanRuns} runs failed, needs ${t.standardCleanRuns} in a row to succeed`;
  if (stats.successRate <= t.standardMinSuccessRate) return `${record(stats)}, needs more than ${percent(t.standardMinSuccessRate)}`;
  if (stats.wilsonLower < t.standardMinWilsonLower) {
    const more = runsToStandard(stats.failed, t) - stats.runs;
    const hint = Number.isFinite(more) && more > 0 ? `, ${plural(more, "more successful run")} to go` : "";
    return `${record(stats)}, ${confidence(stats, t)}, needs ${percent(t.standardMinWilsonLower)}${hint}`;
  }
  return undefined;
}

/** "15 of 15 runs succeeded (100 %)": the whole record, approved and unattended. */
function record(stats: TrustStats): string {
  return `${stats.succeeded} of ${plural(stats.runs, "run")} succeeded (${percent(stats.successRate)})`;
}

function confidence(stats: TrustStats, t: TrustThresholds): string {
  return `with ${confidenceLevel(t)} confidence it succeeds at least ${percent(stats.wilsonLower)} of the time`;
}

/** "90 %": how confident the Wilson bound at `wilsonZ` is (TRUST_THRESHOLDS may change it). */
export function confidenceLevel(t: TrustThresholds): string {
  return percent(oneSidedConfidence(t.wilsonZ), 0);
}

function verb(from: Level, to: Level): string {
  return rank[to] > rank[from] ? "promoted to" : rank[to] < rank[from] ? "demoted to" : "stays at";
}

/** "91.3 %", or "100 %" / "90 %" when the decimal is zero. */
export function percent(share: number, digits = 1): string {
  const text = (share * 100).toFixed(digits);
  return `${digits > 0 && text.endsWith(".0") ? text.slice(0, -2) : text} %`;
}

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** " on Nov 18" (UTC, like the cards), or "" without a date; `prefix` + ")" wraps it. */
function on(at: Date | undefined, prefix?: string): string {
  if (!at) return "";
  const date = `${months[at.getUTCMonth()]} ${at.getUTCDate()}`;
  return prefix === undefined ? ` on ${date}` : `${prefix} on ${date})`;
}
