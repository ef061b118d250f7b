import { describe, expect, it } from "vitest";
import {
  computeStats,
  confidenceLevel,
  defaultThresholds,
  evaluate,
  percent,
  recentWindow,
  runsToStandard,
  type Level,
  type RunRecord,
  type TrustContext,
  type TrustThresholds,
} from "../../src/trust/policy.ts";
import { oneSidedConfidence, wilsonLowerBound } from "../../src/trust/wilson.ts";

const ok = (n = 1, unattended = false): RunRecord[] => Array.from({ length: n }, () => ({ outcome: "succeeded", unattended }));
const fail = (n = 1, unattended = false): RunRecord[] => Array.from({ length: n }, () => ({ outcome: "failed", unattended }));
const low: TrustContext = { risk: "low", lockdown: false };
const high: TrustContext = { risk: "high", lockdown: false };
const nov18 = new Date("2025-11-18T09:30:00Z");
/** Only the rate and count rules: a bound of 0 always passes. */
const noBound: TrustThresholds = { ...defaultThresholds, standardMinWilsonLower: 0 };
const levels: Level[] = ["manual", "prompted", "standard"];

describe("wilsonLowerBound", () => {
  it("is 0 with no evidence and n / (n + z²) for a clean record", () => {
    expect(wilsonLowerBound(0, 0, 1.2816)).toBe(0);
    expect(wilsonLowerBound(10, 10, 1.2816)).toBeCloseTo(0.858922, 6);
    expect(wilsonLowerBound(15, 15, 1.2816)).toBeCloseTo(0.901307, 6);
    expect(wilsonLowerBound(0, 10, 1.96)).toBe(0);
  });

  it("matches published Wilson intervals", () => {
    // 95 % two-sided: 19/20 → [0.7639, 0.9911], 5/10 → [0.2366, 0.7634].
    expect(wilsonLowerBound(19, 20, 1.96)).toBeCloseTo(0.7639, 4);
    expect(wilsonLowerBound(5, 10, 1.96)).toBeCloseTo(0.2366, 4);
    expect(wilsonLowerBound(19, 20, 1.2816)).toBeCloseTo(0.846775, 6);
  });

  it("solves the score equation (p̂ − p)² = z²·p(1 − p)/n below p̂", () => {
    for (const [s, n, z] of [[19, 20, 1.2816], [31, 32, 1.2816], [7, 12, 1.645], [40, 41, 2.326]] as const) {
      // Bisection on the equation itself, independent of the closed form.
      const g = (p: number) => (s / n - p) ** 2 - (z * z * p * (1 - p)) / n;
      let lo = 0;
      let hi = s / n;
      for (let i = 0; i < 100; i++) {
        const mid = (lo + hi) / 2;
        if (g(mid) > 0) lo = mid;
        else hi = mid;
      }
      expect(wilsonLowerBound(s, n, z)).toBeCloseTo(lo, 9);
    }
  });

  it("grows with every success and falls with every failure", () => {
    expect(wilsonLowerBound(20, 20, 1.2816)).toBeGreaterThan(wilsonLowerBound(19, 19, 1.2816));
    expect(wilsonLowerBound(19, 20, 1.2816)).toBeLessThan(wilsonLowerBound(19, 19, 1.2816));
  });
});

describe("oneSidedConfidence", () => {
  it("turns a z into the confidence it stands for", () => {
    expect(oneSidedConfidence(0)).toBeCloseTo(0.5, 7);
    expect(oneSidedConfidence(1.2816)).toBeCloseTo(0.9, 4);
    expect(oneSidedConfidence(1.96)).toBeCloseTo(0.975, 4);
    expect(oneSidedConfidence(-1.645)).toBeCloseTo(0.05, 4);
  });
});

describe("how the policy writes its numbers", () => {
  it("percentages with one decimal, dropped when it is zero", () => {
    expect(percent(0.913)).toBe("91.3 %");
    expect(percent(1)).toBe("100 %");
    expect(percent(0.9)).toBe("90 %");
    expect(percent(0.8951, 0)).toBe("90 %");
  });

  it("the confidence of the bound follows the configured z", () => {
    expect(confidenceLevel(defaultThresholds)).toBe("90 %");
    expect(confidenceLevel({ ...defaultThresholds, wilsonZ: 1.645 })).toBe("95 %");
  });
});

describe("computeStats", () => {
  it("counts approved and unattended runs apart, and rates over both", () => {
    const runs = [...ok(3), ...fail(1), ...ok(4, true), ...fail(1, true), ...ok(1)];
    const stats = computeStats(runs);
    expect(stats).toMatchObject({
      runs: 10,
      succeeded: 8,
      failed: 2,
      approvedRuns: 5,
      approvedSucceeded: 4,
      approvedFailed: 1,
      unattendedRuns: 5,
      unattendedFailed: 1,
      successRate: 0.8,
      consecutiveFailures: 0,
    });
    expect(stats.wilsonLower).toBeCloseTo(wilsonLowerBound(8, 10, defaultThresholds.wilsonZ), 12);
    // The last approved runs skip the unattended ones; `recent` does not.
    expect(stats.lastApproved).toEqual(["succeeded", "failed", "succeeded"]);
    expect(stats.recent).toEqual(["succeeded", "failed", "succeeded"]);
    expect(computeStats([...ok(5), ...ok(2, true), ...fail(1, true)]).lastApproved).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(computeStats([...ok(5), ...ok(2, true), ...fail(1, true)]).recent).toEqual(["succeeded", "succeeded", "failed"]);
  });

  it("counts failures at the end of the record, approved or not", () => {
    expect(computeStats([...ok(4), ...fail(1), ...fail(2, true)]).consecutiveFailures).toBe(3);
    expect(computeStats(fail(5)).consecutiveFailures).toBe(5);
  });

  it("is all zeros for an empty record", () => {
    expect(computeStats([])).toMatchObject({ runs: 0, approvedRuns: 0, successRate: 0, wilsonLower: 0, lastApproved: [], recent: [], consecutiveFailures: 0 });
  });

  it("keeps as many recent outcomes as the widest window", () => {
    expect(recentWindow()).toBe(3);
    const wide = { ...defaultThresholds, standardCleanRuns: 5 };
    expect(computeStats(ok(10), wide).recent).toHaveLength(5);
    expect(computeStats(ok(2), wide).recent).toHaveLength(2);
  });
});

describe("runsToStandard", () => {
  it("is 15 clean runs, 32 with one failure, 47 with two at the defaults", () => {
    expect([0, 1, 2].map((f) => runsToStandard(f))).toEqual([15, 32, 47]);
    // Right at the edges: 14 clean give 89.5 %, 31 with one failure 89.8 %.
    expect(wilsonLowerBound(14, 14, defaultThresholds.wilsonZ)).toBeLessThan(0.9);
    expect(wilsonLowerBound(30, 31, defaultThresholds.wilsonZ)).toBeLessThan(0.9);
  });

  it('follows "> 95 %" when the bound asks for nothing, and is Infinity when nothing passes', () => {
    expect(runsToStandard(1, noBound)).toBe(21);
    expect(runsToStandard(2, noBound)).toBe(41);
    expect(runsToStandard(0, { ...defaultThresholds, standardMinWilsonLower: 1 })).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("evaluate: manual → prompted", () => {
  it("stays at manual with fewer than 3 approved runs", () => {
    const e = evaluate("manual", ok(2), low);
    expect(e).toMatchObject({ level: "manual", change: "none", reason: "stays at manual: 2 approved runs, needs 3", pin: "none" });
    expect(evaluate("manual", [], low).reason).toBe("stays at manual: 0 approved runs, needs 3");
  });

  it("promotes after 3 good approved runs", () => {
    const e = evaluate("manual", ok(3), low);
    expect(e).toMatchObject({ level: "prompted", change: "promote", reason: "promoted to prompted: 3 approved runs, none of the last 3 failed" });
    expect(e.stats.approvedRuns).toBe(3);
  });

  it("is held back by a failure in the last 3 runs", () => {
    expect(evaluate("manual", [...fail(), ...ok(2)], low).level).toBe("manual");
    const e = evaluate("manual", [...ok(3), ...fail(), ...ok(2)], low);
    expect(e).toMatchObject({ level: "manual", change: "none", reason: "stays at manual: 1 of the last 3 runs failed, needs 3 in a row to succeed" });
    expect(evaluate("manual", [...ok(3), ...fail(), ...ok(3)], low).level).toBe("prompted");
  });

  it("does not count unattended runs as approved ones", () => {
    expect(evaluate("manual", [...ok(2), ...ok(10, true)], low).reason).toBe("stays at manual: 2 approved runs, needs 3");
  });
});

describe("evaluate: prompted → standard", () => {
  it("is not reached by 5 good runs: the bound wants 15", () => {
    const five = evaluate("prompted", ok(5), low);
    expect(five).toMatchObject({ level: "prompted", change: "none" });
    expect(five.reason).toBe("stays at prompted: 5 of 5 runs succeeded (100 %), with 90 % confidence it succeeds at least 75.3 % of the time, needs 90 %, 10 more successful runs to go");
    expect(evaluate("prompted", ok(14), low).level).toBe("prompted");
    const fifteen = evaluate("prompted", ok(15), low);
    expect(fifteen).toMatchObject({ level: "standard", change: "promote" });
    expect(fifteen.reason).toBe("promoted to standard: 15 of 15 runs succeeded (100 %), with 90 % confidence it succeeds at least 90.1 % of the time (needs 90 %), none of the last 3 failed");
  });

  it("needs 32 runs with one failure and 47 with two", () => {
    expect(evaluate("prompted", [...fail(), ...ok(30)], low).level).toBe("prompted");
    expect(evaluate("prompted", [...fail(), ...ok(31)], low).level).toBe("standard");
    expect(evaluate("prompted", [...ok(10), ...fail(), ...ok(10), ...fail(), ...ok(24)], low).level).toBe("prompted");
    expect(evaluate("prompted", [...ok(10), ...fail(), ...ok(10), ...fail(), ...ok(25)], low).level).toBe("standard");
  });

  it("asks for more than 95 %: 19 of 20 is not enough, 20 of 21 is", () => {
    const e = evaluate("prompted", [...fail(), ...ok(19)], low, noBound);
    expect(e).toMatchObject({ level: "prompted", reason: "stays at prompted: 19 of 20 runs succeeded (95 %), needs more than 95 %" });
    expect(evaluate("prompted", [...fail(), ...ok(20)], low, noBound).level).toBe("standard");
  });

  it("asks for 5 approved runs, however many ran alone", () => {
    expect(evaluate("prompted", [...ok(4), ...ok(100, true)], low, noBound).reason).toBe("stays at prompted: 4 approved runs, needs 5");
    expect(evaluate("prompted", [...ok(5), ...ok(100, true)], low, noBound).level).toBe("standard");
  });

  it("asks for the last 3 runs to have succeeded, unattended ones included", () => {
    const demoted = [...ok(40), ...fail(1, true)];
    expect(evaluate("prompted", [...demoted, ...ok(2)], low).reason).toBe("stays at prompted: 1 of the last 3 runs failed, needs 3 in a row to succeed");
    expect(evaluate("prompted", [...demoted, ...ok(3)], low).level).toBe("standard");
  });

  it("counts unattended successes towards the record", () => {
    // 13 approved runs alone would be 13 of 14 (bound 84 %); the unattended ones make it 43 of 44.
    const runs = [...ok(10), ...ok(30, true), ...fail(1, true), ...ok(3)];
    const e = evaluate("prompted", runs, low);
    expect(e.level).toBe("standard");
    expect(e.stats).toMatchObject({ runs: 44, succeeded: 43, approvedRuns: 13, unattendedRuns: 31, unattendedFailed: 1 });
    expect(evaluate("prompted", [...ok(10), ...fail(1), ...ok(3)], low).level).toBe("prompted");
  });

  it("stays at standard while it works", () => {
    expect(evaluate("standard", [...ok(15), ...ok(5, true)], low)).toMatchObject({ level: "standard", change: "none", reason: "stays at standard: 20 of 20 runs succeeded (100 %)" });
  });
});

describe("evaluate: one step per evaluation", () => {
  it("takes a runbook with a long clean record from manual to prompted only", () => {
    const runs = ok(50);
    const first = evaluate("manual", runs, low);
    expect(first).toMatchObject({ level: "prompted", change: "promote" });
    expect(evaluate(first.level, runs, low)).toMatchObject({ level: "standard", change: "promote" });
  });

  it("never moves up more than one level, on any record", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const runs: RunRecord[] = Array.from({ length: Math.floor(random() * 60) }, () => ({ outcome: random() < 0.9 ? "succeeded" : "failed", unattended: random() < 0.3 }));
      for (const level of levels) {
        const e = evaluate(level, runs, low);
        expect(levels.indexOf(e.level) - levels.indexOf(level)).toBeLessThanOrEqual(1);
        // And evaluating the same record again never demotes a second time.
        expect(evaluate(e.level, runs, low).change).not.toBe("demote");
      }
    }
  });
});

describe("evaluate: demotion", () => {
  it("drops standard to prompted when an unattended run fails, whatever the record", () => {
    const runs: RunRecord[] = [...ok(15), ...ok(200, true), { outcome: "failed", unattended: true, at: nov18 }];
    expect(evaluate("standard", runs, low)).toMatchObject({ level: "prompted", change: "demote", reason: "demoted to prompted: the unattended run on Nov 18 failed" });
    expect(evaluate("standard", [...ok(20), ...fail(1, true)], low).reason).toBe("demoted to prompted: the unattended run failed");
    expect(evaluate("standard", [...ok(20), { outcome: "failed", unattended: false, at: nov18 }], low).reason).toBe("demoted to prompted: the approved run on Nov 18 failed");
  });

  it("keeps prompted on a single failure", () => {
    expect(evaluate("prompted", [...ok(10), ...fail()], low)).toMatchObject({ level: "prompted", change: "none" });
  });

  it("drops to manual from any level on repeated failure: 2 of the last 3", () => {
    for (const level of ["prompted", "standard"] as const) {
      const inARow = evaluate(level, [...ok(30), ...fail(2, level === "standard")], low);
      expect(inARow).toMatchObject({ level: "manual", change: "demote", reason: "demoted to manual: 2 runs in a row failed" });
      const flapping = evaluate(level, [...ok(30), ...fail(), ...ok(), { outcome: "failed", unattended: false, at: nov18 }], low);
      expect(flapping).toMatchObject({ level: "manual", change: "demote", reason: "demoted to manual: 2 of the last 3 runs failed (the latest on Nov 18)" });
    }
    expect(evaluate("manual", [...ok(30), ...fail(3)], low)).toMatchObject({ level: "manual", change: "none" });
    expect(evaluate("prompted", [...ok(30), ...fail(3)], low).reason).toBe("demoted to manual: 3 runs in a row failed");
    // Failures further apart are not repeated.
    expect(evaluate("prompted", [...ok(30), ...fail(), ...ok(2), ...fail()], low).level).toBe("prompted");
  });

  it("demotes only on the latest run, so an unchanged record is not demoted twice", () => {
    expect(evaluate("prompted", [...ok(20), ...fail(1, true)], low)).toMatchObject({ level: "prompted", change: "none" });
    expect(evaluate("standard", [...ok(20), ...fail(), ...ok(3)], low)).toMatchObject({ level: "standard", change: "none" });
  });
});

describe("evaluate: risk: high", () => {
  it("caps at prompted however good the record", () => {
    expect(evaluate("prompted", ok(100), high)).toMatchObject({ level: "prompted", change: "none", reason: "stays at prompted: risk: high runbooks never run unattended" });
    expect(evaluate("manual", ok(100), high).level).toBe("prompted");
    expect(evaluate("prompted", ok(100), { risk: "medium", lockdown: false }).level).toBe("standard");
  });

  it("takes a runbook at standard back to prompted", () => {
    expect(evaluate("standard", ok(100), high)).toMatchObject({ level: "prompted", change: "demote", reason: "demoted to prompted: risk: high runbooks never run unattended" });
  });
});

describe("evaluate: lockdown", () => {
  it("puts every level at manual and promotes nothing", () => {
    for (const level of levels) {
      const e = evaluate(level, ok(100), { risk: "low", lockdown: true });
      expect(e.level).toBe("manual");
      expect(e.change).toBe(level === "manual" ? "none" : "demote");
    }
    expect(evaluate("standard", ok(100), { risk: "low", lockdown: true }).reason).toBe("demoted to manual: lockdown is on, nothing runs without a person until it is lifted");
    expect(evaluate("manual", ok(100), { risk: "low", lockdown: true }).reason).toBe("stays at manual: lockdown is on, nothing runs without a person until it is lifted");
  });

  it("holds pins too, and climbs back one step at a time once lifted", () => {
    expect(evaluate("standard", ok(100), { risk: "low", lockdown: true, pinned: "standard" })).toMatchObject({ level: "manual", pin: "kept" });
    expect(evaluate("manual", ok(100), low).level).toBe("prompted");
  });
});

describe("evaluate: pins", () => {
  it("holds a level set by hand against the record", () => {
    expect(evaluate("manual", ok(100), { ...low, pinned: "manual" })).toMatchObject({ level: "manual", change: "none", pin: "kept", reason: "stays at manual: set by hand" });
    expect(evaluate("standard", ok(2), { ...low, pinned: "standard" })).toMatchObject({ level: "standard", change: "none", pin: "kept" });
    expect(evaluate("prompted", ok(100), { ...low, pinned: "prompted" }).level).toBe("prompted");
  });

  it("ends with the next failure, which demotes as usual", () => {
    const e = evaluate("standard", [...ok(2), ...fail(1, true)], { ...low, pinned: "standard" });
    expect(e).toMatchObject({ level: "prompted", change: "demote", pin: "released" });
    expect(e.reason).toBe("demoted to prompted: the unattended run failed; the level set by hand (standard) no longer holds");
    // A failure that does not demote still ends the pin: the record decides from here.
    expect(evaluate("prompted", [...ok(5), ...fail()], { ...low, pinned: "prompted" })).toMatchObject({ level: "prompted", change: "none", pin: "released" });
  });

  it("is not ended by failures the person had already seen", () => {
    const pinnedAt = new Date("2025-11-19T00:00:00Z");
    const runs: RunRecord[] = [...ok(5), { outcome: "failed", unattended: true, at: nov18 }];
    expect(evaluate("standard", runs, { ...low, pinned: "standard", pinnedAt })).toMatchObject({ level: "standard", change: "none", pin: "kept" });
    const later: RunRecord[] = [...runs, { outcome: "failed", unattended: true, at: new Date("2025-11-20T00:00:00Z") }];
    expect(evaluate("standard", later, { ...low, pinned: "standard", pinnedAt })).toMatchObject({ level: "manual", pin: "released" });
  });

  it("at manual is only lifted by a person: failure confirms it", () => {
    expect(evaluate("manual", [...ok(30), ...fail()], { ...low, pinned: "manual" })).toMatchObject({ level: "manual", pin: "kept" });
  });

  it("comes back after a lockdown, capped at prompted for risk: high", () => {
    expect(evaluate("manual", ok(3), { ...low, pinned: "standard" })).toMatchObject({ level: "standard", change: "promote", reason: "promoted to standard: set by hand" });
    expect(evaluate("standard", ok(100), { ...high, pinned: "standard" })).toMatchObject({
      level: "prompted",
      change: "demote",
      pin: "kept",
      reason: "demoted to prompted: set to standard by hand, but risk: high runbooks never run unattended",
    });
  });
});

describe("defaultThresholds", () => {
  it("are the design's numbers and cannot be changed in place", () => {
    expect(defaultThresholds).toMatchObject({ promptedMinApproved: 3, promptedCleanRuns: 3, standardMinApproved: 5, standardMinSuccessRate: 0.95 });
    expect(Object.isFrozen(defaultThresholds)).toBe(true);
  });
});
