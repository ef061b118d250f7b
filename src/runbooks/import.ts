import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { AppError } from "../errors.ts";
import { sortProblems, type FileProblem } from "../util/yaml-file.ts";
import { findRunbookFiles, loadRunbooks, readRunbookFile } from "./load.ts";
import type { Runbook } from "./types.ts";

/**
 * `topicops runbooks import <dir>`: copies a folder of markdown (a wiki export, the public
 * prometheus-operator runbooks) into the runbooks directory, under a sub-folder of its own.
 * Every file is validated first and only files that load are copied, so an import can never
 * leave a file behind that the next start-up would reject.
 */

export interface ImportOptions {
  /** Sub-folder of the runbooks directory to copy into; defaults to the source folder's name. */
  into?: string;
}

export interface ImportedFile {
  /** Relative to the source directory. */
  file: string;
  /** Where it now is, relative to the runbooks directory. */
  to: string;
  id: string;
  kind: Runbook["kind"];
  /** A different file was there before and has been overwritten. */
  replaced: boolean;
}

export interface SkippedFile {
  /** Relative to the source directory. */
  file: string;
  reason: string;
}

export interface ImportResult {
  imported: ImportedFile[];
  skipped: SkippedFile[];
  /** Problems of the files that were not copied, with paths relative to the source directory. */
  problems: FileProblem[];
}

export async function importRunbooks(sourceDir: string, runbooksDir: string, options: ImportOptions = {}): Promise<ImportResult> {
  const source = path.resolve(sourceDir);
  const into = checkInto(options.into ?? path.basename(source));
  try {
    if (!(await stat(source)).isDirectory()) throw new Error("not a directory");
  } catch (error) {
    throw new AppError("config", `cannot import from ${sourceDir}: ${(error as Error).message}`, { cause: error });
  }

  const result: ImportResult = { imported: [], skipped: [], problems: [] };
  const found = await findRunbookFiles(source);
  result.problems.push(...found.problems);
  for (const problem of found.problems) result.skipped.push({ file: problem.file, reason: problem.message });

  type Candidate = { file: string; to: string; bytes: Buffer; runbook: Runbook };
  const candidates: Candidate[] = [];
  for (const entry of found.files) {
    const parsed = await readRunbookFile(entry);
    if (!parsed.runbook || parsed.problems.length > 0 || !parsed.bytes) {
      result.problems.push(...parsed.problems);
      const count = parsed.problems.length;
      result.skipped.push({ file: entry.relPath, reason: `invalid (${count} problem${count === 1 ? "" : "s"}), not copied` });
      continue;
    }
    candidates.push({ file: entry.relPath, to: `${into}/${entry.relPath}`, bytes: parsed.bytes, runbook: parsed.runbook });
  }

  // Ids must be unique across the whole library, or the next load would leave out both files.
  const existing = await loadRunbooks(runbooksDir);
  const owner = new Map<string, string>();
  for (const runbook of existing.runbooks) owner.set(runbook.id, runbook.file);
  const sourceCount = new Map<string, number>();
  for (const candidate of candidates) sourceCount.set(candidate.runbook.id, (sourceCount.get(candidate.runbook.id) ?? 0) + 1);

  for (const candidate of candidates) {
    const { id } = candidate.runbook;
    if ((sourceCount.get(id) ?? 0) > 1) {
      const others = candidates.filter((c) => c !== candidate && c.runbook.id === id).map((c) => c.file);
      const reason = `id "${id}" is also used by ${others.join(", ")} in the same import`;
      result.problems.push({ file: candidate.file, message: reason });
      result.skipped.push({ file: candidate.file, reason });
      continue;
    }
    const current = owner.get(id);
    if (current !== undefined && current !== candidate.to) {
      const reason = `id "${id}" is already used by ${current} in the runbooks directory`;
      result.problems.push({ file: candidate.file, message: reason });
      result.skipped.push({ file: candidate.file, reason });
      continue;
    }

    const target = path.join(runbooksDir, ...candidate.to.split("/"));
    const before = await readFile(target).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    });
    if (before !== undefined && before.equals(candidate.bytes)) {
      result.skipped.push({ file: candidate.file, reason: "unchanged" });
      continue;
    }
    await writeAtomically(target, candidate.bytes);
    result.imported.push({ file: candidate.file, to: candidate.to, id, kind: candidate.runbook.kind, replaced: before !== undefined });
  }
  result.problems = sortProblems(result.problems);
  return result;
}

/** A relative folder the loader will read: no `..` (it would write outside), no dot-folders (it would skip them). */
function checkInto(into: string): string {
  const segments = into.split(/[/\\]/).filter((s) => s !== "");
  const bad = path.isAbsolute(into) || segments.length === 0 || segments.some((s) => s.startsWith("."));
  if (bad) {
    throw new AppError("config", `cannot import into ${JSON.stringify(into)}: give a folder inside the runbooks directory, without .. or names starting with a dot`);
  }
  return segments.join("/");
}

/** Write then rename, so a reader never sees half a file; the temporary name is a dot-file the loader skips. */
async function writeAtomically(target: string, bytes: Buffer): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    await writeFile(temp, bytes);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
