/**
 * The Wilson score interval for a success rate, and the normal quantile arithmetic it needs.
 *
 * Wilson rather than the plain "p̂ ± z·√(p̂(1−p̂)/n)": the plain interval collapses to [1, 1] for a
 * clean record (p̂ = 1), so five successes and five hundred would look equally certain. Wilson's
 * lower bound for a clean record is n / (n + z²), which grows with the evidence, and it stays
 * inside [0, 1] for every record.
 */

/**
 * The lower end of the Wilson score interval: the success rate we are confident (one-sided, at
 * the confidence `z` stands for, see `oneSidedConfidence`) the runbook reaches at least.
 * No trials is no evidence: 0.
 */
export function wilsonLowerBound(successes: number, trials: number, z: number): number {
  if (trials <= 0) return 0;
  const p = successes / trials;
  const z2 = z * z;
  const centre = p + z2 / (2 * trials);
  const spread = z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // Rounding can push a clean record's bound a hair past what n / (n + z²) gives; clamp to [0, 1].
  return Math.min(1, Math.max(0, (centre - spread) / (1 + z2 / trials)));
}

/**
 * Φ(z), the standard normal distribution function: the one-sided confidence a z stands for
 * (1.2816 → 0.90, 1.645 → 0.95), so announcements can say "with 90 % confidence" instead of a z.
 * Abramowitz & Stegun 7.1.26 for erf; its error (< 1.5e-7) is far below the whole percent we print.
 */
export function oneSidedConfidence(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
