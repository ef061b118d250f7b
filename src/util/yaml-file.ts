import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { AppError } from "../errors.ts";

/**
 * YAML config files validated with zod, where every problem names the file, line and column of
 * the offending node, so an operator can jump straight to it (`file:line:col:` is what editors
 * and CI annotations understand).
 */

export interface FileProblem {
  file: string;
  line?: number;
  column?: number;
  /** Where in the document, e.g. `match[0].labels[1]`; absent for whole-file problems. */
  path?: string;
  message: string;
}

export interface YamlFileOptions {
  /**
   * Lines in the file before the YAML text, added to every reported line: for YAML front matter
   * that starts after a `---` line, pass 1.
   */
  lineOffset?: number;
}

export interface YamlPosition {
  line: number;
  column: number;
}

export type YamlPath = readonly PropertyKey[];

export interface ParsedYaml {
  file: string;
  /** The plain JS value; undefined when there were syntax errors. */
  value: unknown;
  /** Syntax errors; empty when the YAML is well-formed. */
  problems: FileProblem[];
  /** Position of the node at `path`, or of its closest existing parent (a missing key points at its map). */
  locate(path: YamlPath, options?: { atKey?: boolean }): YamlPosition;
}

export type YamlSchemaResult<T> =
  | { ok: true; value: T; locate: ParsedYaml["locate"] }
  | { ok: false; problems: FileProblem[] };

export function parseYamlFile(text: string, file: string, options: YamlFileOptions = {}): ParsedYaml {
  const lineOffset = options.lineOffset ?? 0;
  const lineCounter = new LineCounter();
  // prettyErrors would append a source excerpt to each message; we print our own position instead.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, keepSourceTokens: false });
  const position = (offset: number): YamlPosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: line + lineOffset, column: col };
  };
  const locate: ParsedYaml["locate"] = (path, locateOptions) => position(locateOffset(doc, path, locateOptions?.atKey ?? false));

  const problems: FileProblem[] = doc.errors.map((error) => ({ file, ...position(error.pos[0]), message: error.message }));
  let value: unknown;
  if (problems.length === 0) {
    try {
      value = doc.toJS();
    } catch (error) {
      // e.g. an alias bomb: yaml refuses to expand more than maxAliasCount aliases.
      problems.push({ file, ...position(0), message: error instanceof Error ? error.message : String(error) });
    }
  }
  return { file, value, problems, locate };
}

/** Position of the node at `path` in a Document parsed with `lineCounter` (1-based line and column). */
export function locateInDocument(
  doc: Document,
  lineCounter: LineCounter,
  path: YamlPath,
  options: YamlFileOptions & { atKey?: boolean } = {},
): YamlPosition {
  const { line, col } = lineCounter.linePos(locateOffset(doc, path, options.atKey ?? false));
  return { line: line + (options.lineOffset ?? 0), column: col };
}

/** Zod issues as problems at the nodes they are about, in file order. */
function schemaProblems(parsed: Pick<ParsedYaml, "file" | "locate">, issues: readonly z.core.$ZodIssue[]): FileProblem[] {
  const problems: FileProblem[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      // Point at each unknown key itself: that is the line to fix (usually a typo).
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        problems.push({ file: parsed.file, ...parsed.locate(path, { atKey: true }), path: formatPath(path), message: "unknown key" });
      }
      continue;
    }
    const problem: FileProblem = { file: parsed.file, ...parsed.locate(issue.path), message: issue.message };
    if (issue.path.length > 0) problem.path = formatPath(issue.path);
    problems.push(problem);
  }
  return sortProblems(problems);
}

export function safeParseYamlWithSchema<T>(
  text: string,
  schema: z.ZodType<T>,
  file: string,
  options: YamlFileOptions = {},
): YamlSchemaResult<T> {
  const parsed = parseYamlFile(text, file, options);
  if (parsed.problems.length > 0) return { ok: false, problems: parsed.problems };
  const result = schema.safeParse(parsed.value, { error: friendlierMessages });
  if (!result.success) return { ok: false, problems: schemaProblems(parsed, result.error.issues) };
  return { ok: true, value: result.data, locate: parsed.locate };
}

/** Parses and validates; throws AppError("config") listing every problem as `file:line:col: path: message`. */
export function parseYamlWithSchema<T>(text: string, schema: z.ZodType<T>, file: string, options: YamlFileOptions = {}): T {
  const result = safeParseYamlWithSchema(text, schema, file, options);
  if (!result.ok) throw problemsError(`${file} is invalid`, result.problems);
  return result.value;
}

/** `file:line:col: path: message`, leaving out what is unknown. */
export function formatProblem(problem: FileProblem): string {
  let where = problem.file;
  if (problem.line !== undefined) where += `:${problem.line}`;
  if (problem.line !== undefined && problem.column !== undefined) where += `:${problem.column}`;
  return `${where}: ${problem.path ? `${problem.path}: ` : ""}${problem.message}`;
}

/** One AppError("config") for many problems: a heading, then one problem per line; the list in details.problems. */
export function problemsError(heading: string, problems: readonly FileProblem[]): AppError {
  const lines = problems.map(formatProblem);
  return new AppError("config", `${heading}:\n${lines.join("\n")}`, { details: { problems: [...problems] } });
}

/** The problems an AppError from this module carries, for callers that gather several files. */
export function problemsOf(error: unknown): FileProblem[] | undefined {
  if (!(error instanceof AppError) || error.code !== "config") return undefined;
  const problems = error.details?.["problems"];
  return Array.isArray(problems) ? (problems as FileProblem[]) : undefined;
}

/** `match[0].labels["app.kubernetes.io/name"]` */
export function formatPath(path: YamlPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "symbol") out += `[${String(segment)}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

export function sortProblems(problems: FileProblem[]): FileProblem[] {
  // Stable: problems on the same node keep the schema's order.
  return problems.sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}

function locateOffset(doc: Document, path: YamlPath, atKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = isNode(node) && node.range ? node.range[0] : 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      const keyOffset = isNode(pair.key) && pair.key.range ? pair.key.range[0] : offset;
      // `key:` with nothing after it has no (or an empty) value node; the key is the place to point at.
      if ((last && atKey) || !isNode(pair.value) || !pair.value.range || pair.value.range[0] === pair.value.range[1]) return keyOffset;
      node = pair.value;
      offset = pair.value.range[0];
    } else if (isSeq(node) && typeof segment === "number") {
      const item: unknown = node.items[segment];
      if (!isNode(item) || !item.range) break;
      node = item;
      offset = item.range[0];
    } else {
      break;
    }
    // An alias's target may be anywhere in the file; the alias is where this value was used.
    if (isAlias(node)) break;
  }
  return offset;
}

/** zod's defaults say "Invalid input: expected string, received undefined"; say what to do instead. */
const friendlierMessages: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === "invalid_value") {
    const options = issue.values.map((v) => JSON.stringify(v));
    return `expected ${options.length === 1 ? options[0] : `one of ${options.join(", ")}`}, got ${describeValue(issue.input)}`;
  }
  if (issue.code !== "invalid_type") return undefined;
  if (issue.input === undefined) return "required";
  const expected = yamlTypeNames[String(issue.expected)] ?? String(issue.expected);
  return `expected ${expected}, got ${describeValue(issue.input)}`;
};

// People write YAML, not JSON: they know maps and lists.
const yamlTypeNames: Record<string, string> = { object: "a map", array: "a list", record: "a map" };

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return value.length <= 40 ? `string ${JSON.stringify(value)}` : "string";
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  return typeof value;
}
