import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { importRunbooks } from "../../src/runbooks/import.ts";
import { loadRunbooks } from "../../src/runbooks/load.ts";
import type { RunbookLibrary } from "../../src/runbooks/types.ts";
import { repoRoot } from "./process.ts";
import type { Scope } from "./scope.ts";

/** Our starter library, and the 50 public prometheus-operator pages next to the checkout. */
export const ourRunbooksDir = join(repoRoot, "runbooks");
export const corpusDir = resolve(process.env.BENCH_CORPUS_DIR ?? join(repoRoot, "..", "shared", "corpus", "prometheus-operator-runbooks"));

export interface BenchLibrary {
  dir: string;
  library: RunbookLibrary;
  /** Files import refused or skipped, and load problems: a benchmark over a partial library says so. */
  problems: string[];
  imported: { ours: number; corpus: number };
}

/**
 * What an operator gets after `topicops runbooks import` of both folders: each copied with the
 * real import (validated, ids checked for clashes) into a fresh temporary runbooks directory,
 * then loaded the way the service loads it. The directory goes with the scope.
 */
export async function buildBenchLibrary(scope: Scope): Promise<BenchLibrary> {
  const dir = await mkdtemp(join(tmpdir(), "topicops-bench-runbooks-"));
  scope.defer(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const ours = await importRunbooks(ourRunbooksDir, dir, { into: "ours" });
  const corpus = await importRunbooks(corpusDir, dir, { into: "prometheus-operator" });
  const library = await loadRunbooks(dir);
  const problems = [
    ...[...ours.skipped, ...corpus.skipped].map((s) => `import skipped ${s.file}: ${s.reason}`),
    ...library.problems.map((p) => `${p.file}: ${p.message}`),
  ];
  return { dir, library, problems, imported: { ours: ours.imported.length, corpus: corpus.imported.length } };
}
