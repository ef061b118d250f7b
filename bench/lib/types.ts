/** What every benchmark hands back to bench/index.ts, which prints it and writes it to bench/results/. */
export interface BenchResult {
  name: string;
  title: string;
  startedAt: string;
  finishedAt: string;
  /** Human-readable lines, printed as they are: the benchmark knows best how to lay out its numbers. */
  report: string[];
  /**
   * Pass/fail conditions. A `must` that fails is reported, never thrown: a benchmark measures, and
   * the run still writes its numbers so the failure can be looked at.
   */
  checks: BenchCheck[];
  /** Everything measured, for the JSON file and for comparing runs. */
  data: Record<string, unknown>;
}

export interface BenchCheck {
  name: string;
  /** true for a stated requirement; false for a sanity check that only informs. */
  must: boolean;
  pass: boolean;
  detail: string;
}

export interface BenchModule {
  run(): Promise<BenchResult>;
}
