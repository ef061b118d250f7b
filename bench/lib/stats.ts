/** Small statistics helpers, so every benchmark computes percentiles the same way. */

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array (q in 0..100); NaN when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Sorts a copy; values in ms, rounded to 0.01 ms so the JSON stays readable. */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const list = Array.from(sorted);
  const round = (n: number) => Math.round(n * 100) / 100;
  const sum = list.reduce((a, b) => a + b, 0);
  return {
    count: list.length,
    p50: round(percentile(list, 50)),
    p90: round(percentile(list, 90)),
    p99: round(percentile(list, 99)),
    max: round(list.length > 0 ? list[list.length - 1]! : Number.NaN),
    mean: round(list.length > 0 ? sum / list.length : Number.NaN),
  };
}

export interface WindowMax {
  count: number;
  /** Start of the busiest window (ms since epoch), or null when there were no events. */
  windowStart: number | null;
}

/**
 * The most events in any half-open window [t, t + windowMs). Checking windows that start at an
 * event is enough: sliding a window's start forward to its first event never loses one.
 */
export function slidingWindowMax(times: readonly number[], windowMs: number): WindowMax {
  const sorted = [...times].sort((a, b) => a - b);
  let best: WindowMax = { count: 0, windowStart: null };
  let end = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end++;
    if (end - start > best.count) best = { count: end - start, windowStart: sorted[start]! };
  }
  return best;
}

/** `a / b` as a fraction and a percentage, for "service vs ceiling" lines. */
export function ratio(a: number, b: number): { fraction: number; percent: number } {
  const fraction = b > 0 ? a / b : Number.NaN;
  return { fraction: Math.round(fraction * 10_000) / 10_000, percent: Math.round(fraction * 1000) / 10 };
}

export const round1 = (n: number) => Math.round(n * 10) / 10;
export const round2 = (n: number) => Math.round(n * 100) / 100;

/** A seeded PRNG (mulberry32): the same storm every run, so runs can be compared. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
