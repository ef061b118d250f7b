import { createHash } from "node:crypto";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../logger.ts";
import { plural } from "../util/plural.ts";
import { sortProblems, type FileProblem } from "../util/yaml-file.ts";
import { normalizeText, parseRunbookText, type ParsedRunbookText } from "./format.ts";
import type { Runbook, RunbookLibrary } from "./types.ts";

/**
 * Loading the runbooks directory. Runbooks are not essential the way topics are: one bad file is
 * left out with its problems listed, and everything else loads, so a typo in a new runbook never
 * takes away the ones that work.
 */

/** Bodies are embedded for search and shown in chats; a file this big is a mistake or an attack. */
export const MAX_RUNBOOK_FILE_BYTES = 1024 * 1024;

/**
 * One file, by its path relative to the runbooks directory (it names problems, and its base name
 * is the id a runbook must have). Given bytes, `contentHash` is theirs exactly; given a string,
 * it is the hash of its UTF-8 encoding.
 */
export function parseRunbookFile(relPath: string, content: string | Uint8Array): ParsedRunbookText {
  const file = toPosix(relPath);
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  if (bytes.byteLength > MAX_RUNBOOK_FILE_BYTES) {
    return { problems: [{ file, message: `the file is ${bytes.byteLength} bytes; the limit is ${MAX_RUNBOOK_FILE_BYTES} (1 MiB)` }] };
  }
  const contentHash = createHash("sha256").update(bytes).digest("hex");
  let text: string;
  if (typeof content === "string") {
    text = content;
  } else {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(content);
    } catch {
      return { problems: [{ file, message: "the file is not valid UTF-8 text" }] };
    }
  }
  return parseRunbookText(file, normalizeText(text), contentHash);
}

export interface RunbookFileEntry {
  /** Relative to the directory searched, with `/` separators. */
  relPath: string;
  absPath: string;
}

/**
 * Every `.md` file under `dir`, in sub-folders too, sorted by path. Skipped: README.md files
 * (they describe the folder, they are not runbooks) and dot-files and dot-folders (editor swap
 * files, `.git`). Symlinks are followed, each real folder is visited once.
 */
export async function findRunbookFiles(dir: string): Promise<{ files: RunbookFileEntry[]; problems: FileProblem[]; unreadable?: string }> {
  const files: RunbookFileEntry[] = [];
  const problems: FileProblem[] = [];
  const visited = new Set<string>();
  let unreadable: string | undefined;

  const walk = async (absDir: string, relDir: string): Promise<void> => {
    let real: string;
    let names: string[];
    try {
      real = await realpath(absDir);
      if (visited.has(real)) return;
      visited.add(real);
      names = await readdir(absDir);
    } catch (error) {
      problems.push({ file: relDir === "" ? "." : relDir, message: `cannot be read: ${(error as Error).message}` });
      if (relDir === "") unreadable = (error as Error).message;
      return;
    }
    for (const name of names.sort()) {
      if (name.startsWith(".")) continue;
      const absPath = path.join(absDir, name);
      const relPath = relDir === "" ? name : `${relDir}/${name}`;
      let info;
      try {
        info = await stat(absPath);
      } catch (error) {
        problems.push({ file: relPath, message: `cannot be read: ${(error as Error).message}` });
        continue;
      }
      if (info.isDirectory()) await walk(absPath, relPath);
      else if (info.isFile() && /\.md$/i.test(name) && name.toLowerCase() !== "readme.md") files.push({ relPath, absPath });
    }
  };

  await walk(dir, "");
  files.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  return { files, problems, ...(unreadable !== undefined ? { unreadable } : {}) };
}

/** Reads one found file; a file too big is refused before it is read. */
export async function readRunbookFile(entry: RunbookFileEntry): Promise<ParsedRunbookText & { bytes?: Buffer }> {
  try {
    const info = await stat(entry.absPath);
    if (info.size > MAX_RUNBOOK_FILE_BYTES) {
      return { problems: [{ file: entry.relPath, message: `the file is ${info.size} bytes; the limit is ${MAX_RUNBOOK_FILE_BYTES} (1 MiB)` }] };
    }
    const bytes = await readFile(entry.absPath);
    return { ...parseRunbookFile(entry.relPath, bytes), bytes };
  } catch (error) {
    return { problems: [{ file: entry.relPath, message: `cannot be read: ${(error as Error).message}` }] };
  }
}

/** Every runbook and page under `dir`. Never throws: an unreadable directory is a problem too. */
export async function loadRunbooks(dir: string): Promise<RunbookLibrary> {
  const found = await findRunbookFiles(dir);
  const parsed: ParsedRunbookText[] = [];
  for (const entry of found.files) parsed.push(await readRunbookFile(entry));
  const library = createRunbookLibrary(parsed, found.problems);
  return found.unreadable !== undefined ? { ...library, unreadable: found.unreadable } : library;
}

/**
 * Whether a reload is to be ignored: the directory could not be read at all while runbooks are
 * loaded from before (it was removed, unmounted, or is being replaced). Dropping them would take
 * every suggestion off the cards and stop every unattended run; they stay, and it is logged.
 */
export function keepsCurrent(loaded: RunbookLibrary, current: RunbookLibrary | undefined, dir: string, logger: Logger): boolean {
  if (loaded.unreadable === undefined || !current || current.runbooks.length === 0) return false;
  logger.error(
    { dir, reason: loaded.unreadable },
    `the runbooks directory cannot be read; keeping the ${plural(current.runbooks.length, "runbook")} read before until it can be read again`,
  );
  return true;
}

/**
 * A library from parsed files: files with problems are left out, and so are all files sharing an
 * id — the id is what trust levels and decisions are recorded under, so neither may silently win.
 */
export function createRunbookLibrary(files: readonly ParsedRunbookText[], earlierProblems: readonly FileProblem[] = []): RunbookLibrary {
  const problems: FileProblem[] = [...earlierProblems];
  const byIdAll = new Map<string, ParsedRunbookText[]>();
  for (const parsed of files) {
    problems.push(...parsed.problems);
    if (!parsed.runbook || parsed.problems.length > 0) continue;
    byIdAll.set(parsed.runbook.id, [...(byIdAll.get(parsed.runbook.id) ?? []), parsed]);
  }
  const runbooks: Runbook[] = [];
  for (const [id, same] of byIdAll) {
    if (same.length === 1) {
      runbooks.push(same[0]!.runbook!);
      continue;
    }
    for (const parsed of same) {
      const others = same.filter((p) => p !== parsed).map((p) => p.runbook!.file);
      const problem: FileProblem = {
        file: parsed.runbook!.file,
        message: `id "${id}" is also used by ${others.join(", ")}; ids must be unique, so none of these files is loaded`,
      };
      if (parsed.idAt) Object.assign(problem, parsed.idAt, { path: "id" });
      problems.push(problem);
    }
  }
  runbooks.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const index = new Map(runbooks.map((r) => [r.id, r]));
  return {
    runbooks: Object.freeze(runbooks),
    problems: Object.freeze(sortProblems(problems)),
    byId: (id) => index.get(id),
  };
}

function toPosix(file: string): string {
  return file.split(path.sep).join("/");
}
