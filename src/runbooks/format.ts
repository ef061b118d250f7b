import { z } from "zod";
import { createMatcher, matchesAll, matchersSchema } from "../util/matchers.ts";
import { formatPath, parseYamlFile, safeParseYamlWithSchema, sortProblems, type FileProblem, type YamlPath, type YamlPosition } from "../util/yaml-file.ts";
import { durationSchema } from "./duration.ts";
import { anchorPattern, checkTemplate, DEFAULT_PARAM_PATTERN, PARAM_NAME_PATTERN, parseTemplate, type TemplateField } from "./template.ts";
import type { CheckStep, HttpMethod, HttpRequestSpec, Runbook, RunbookMatch, RunbookParam, RunbookStep, TrustLevel } from "./types.ts";

/**
 * The runbook file format: `runbooks/<id>.md`, YAML front matter between `---` lines, then
 * markdown. A file whose front matter has none of our keys (or that has none at all) is a `page`:
 * read and suggested, never run. Anything with our keys is validated strictly — unknown keys are
 * errors, because a typo (`retires:`) must not silently turn off what the author asked for.
 */

export const RUNBOOK_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Any of these in the front matter makes the file a runbook. `title` is not one: Hugo pages have it too. */
export const RUNBOOK_KEYS = ["id", "match", "risk", "params", "steps", "starting_level"] as const;

export const HOUR_MS = 3_600_000;
export const DEFAULT_RUN_TIMEOUT_MS = 60_000;
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRY_DELAY_MS = 5_000;
export const DEFAULT_CHECK_EVERY_MS = 15_000;
export const MAX_RETRY_ATTEMPTS = 10;
export const MAX_TITLE_LENGTH = 200;

/** The front matter starts after the `---` on line 1. */
export const FRONT_MATTER_LINE_OFFSET = 1;

const httpMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const satisfies readonly HttpMethod[];
const stepKinds = ["run", "http", "wait", "check"] as const;

// ---------------------------------------------------------------------------------------------
// Front matter

export type FrontMatterSplit = { kind: "none"; body: string } | { kind: "yaml"; yaml: string; body: string } | { kind: "unclosed" };

/** Splits normalized text (LF line ends, no BOM) into front matter and body. */
export function splitFrontMatter(text: string): FrontMatterSplit {
  const lines = text.split("\n");
  if (lines[0]?.trimEnd() !== "---") return { kind: "none", body: text };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trimEnd();
    if (line === "---" || line === "...") {
      return { kind: "yaml", yaml: `${lines.slice(1, i).join("\n")}\n`, body: lines.slice(i + 1).join("\n") };
    }
  }
  return { kind: "unclosed" };
}

/** BOM stripped, CRLF as LF: line numbers stay the same, and the parsers see one kind of text. */
export function normalizeText(text: string): string {
  return (text.startsWith("\uFEFF") ? text.slice(1) : text).replace(/\r\n/g, "\n");
}

// ---------------------------------------------------------------------------------------------
// Schema

const QUOTE_HINT = 'quote it ("5"): YAML reads unquoted numbers and booleans as such, and may change them (0755 becomes 755)';

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A string field where a number or boolean is a mistake to point out rather than convert. */
const textSchema = z.unknown().transform((input, ctx) => {
  if (typeof input === "string") return input;
  ctx.addIssue({ code: "custom", message: input === undefined ? "required" : typeof input === "number" || typeof input === "boolean" ? `expected a string, got ${describe(input)}; ${QUOTE_HINT}` : `expected a string, got ${describe(input)}`, input });
  return z.NEVER;
});

const nonEmptyText = textSchema.pipe(z.string().trim().min(1, "must not be empty"));

const idSchema = textSchema.pipe(
  z.string().regex(RUNBOOK_ID_PATTERN, "must be lower case letters, digits and -, starting with a letter or digit, at most 64 characters"),
);

const titleSchema = nonEmptyText.pipe(z.string().max(MAX_TITLE_LENGTH, `must be at most ${MAX_TITLE_LENGTH} characters`));

/** `KubePodCrashLooping` or `[KubePodCrashLooping, KubePodNotReady]`. */
const alertNamesSchema = z.unknown().transform((input, ctx) => {
  const list = typeof input === "string" ? [input] : input;
  if (!Array.isArray(list)) {
    ctx.addIssue({ code: "custom", message: `expected an alert name or a list of alert names, got ${describe(input)}`, input });
    return z.NEVER;
  }
  const names: string[] = [];
  list.forEach((item: unknown, index) => {
    if (typeof item !== "string" || item.trim() === "") {
      ctx.addIssue({ code: "custom", message: `expected a non-empty alert name, got ${describe(item)}`, path: typeof input === "string" ? [] : [index], input: item });
    } else {
      names.push(item.trim());
    }
  });
  return [...new Set(names)];
});

const matchSchema = z
  .strictObject({ alerts: alertNamesSchema.optional(), labels: matchersSchema.optional() })
  .refine(
    (match) => (match.alerts?.length ?? 0) > 0 || (match.labels?.length ?? 0) > 0,
    // An empty match would match every alert: surely not what anyone meant.
    "match needs at least one alert name (alerts) or label matcher (labels)",
  );

/** A param's pattern: compiled here, anchored, and held to the rules label matchers follow. */
const patternSchema = nonEmptyText.transform((pattern, ctx) => {
  try {
    new RegExp(anchorPattern(pattern));
  } catch (error) {
    const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
    ctx.addIssue({ code: "custom", message: `invalid regular expression: ${reason}`, input: pattern });
    return z.NEVER;
  }
  // Values come from alert labels, which attackers can shape; reuse the matcher rules that refuse
  // patterns able to backtrack for ever on a hostile value (`(a+)+`), and RE2-only syntax.
  try {
    createMatcher("param", "=~", pattern);
  } catch (error) {
    const message = (error as Error).message;
    const reason = /(regular expression (?:not accepted|is \d+ characters long|flag)[\s\S]*|invalid regular expression[\s\S]*)$/.exec(message)?.[1] ?? message;
    ctx.addIssue({ code: "custom", message: reason, input: pattern });
    return z.NEVER;
  }
  return pattern;
});

const paramSchema = z
  .strictObject({
    default: textSchema.optional(),
    pattern: patternSchema.optional(),
    description: textSchema.optional(),
  })
  .nullable();

const paramsSchema = z.record(z.string(), paramSchema).superRefine((params, ctx) => {
  for (const name of Object.keys(params)) {
    if (!PARAM_NAME_PATTERN.test(name)) {
      ctx.addIssue({ code: "custom", path: [name], message: "a param name is lower case letters, digits and _, starting with a letter, at most 32 characters", input: name });
    }
  }
});

const RUN_STRING_MESSAGE =
  "run must be a list of arguments, e.g. [kubectl, rollout, restart, deployment/web], not a string: a string would need a shell " +
  "to split it, and steps never run through a shell, where a value from an alert could inject commands";

const argvSchema = z.unknown().transform((input, ctx) => {
  if (typeof input === "string") {
    ctx.addIssue({ code: "custom", message: RUN_STRING_MESSAGE, input });
    return z.NEVER;
  }
  if (!Array.isArray(input) || input.length === 0) {
    ctx.addIssue({ code: "custom", message: `expected a non-empty list [executable, argument, …], got ${describe(input)}`, input });
    return z.NEVER;
  }
  const argv: string[] = [];
  input.forEach((item: unknown, index) => {
    if (typeof item !== "string") {
      const hint = typeof item === "number" || typeof item === "boolean" ? `; ${QUOTE_HINT}` : "";
      ctx.addIssue({ code: "custom", message: `expected a string argument, got ${describe(item)}${hint}`, path: [index], input: item });
    } else if (item.includes("\0")) {
      ctx.addIssue({ code: "custom", message: "an argument cannot contain NUL", path: [index], input: item });
    } else {
      argv.push(item);
    }
  });
  const executable = input[0];
  if (typeof executable === "string") {
    if (executable.includes("{{")) {
      ctx.addIssue({ code: "custom", message: "the executable must be written out, not a template: which program runs must never depend on an alert", path: [0], input: executable });
    } else if (!/^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(executable) && !/^\/[^\s]+$/.test(executable)) {
      ctx.addIssue({ code: "custom", message: `the executable must be a bare name looked up on PATH (kubectl) or an absolute path (/usr/bin/kubectl), got ${describe(executable)}`, path: [0], input: executable });
    }
  }
  return argv.length === input.length ? argv : z.NEVER;
});

const methodSchema = textSchema.transform((method, ctx) => {
  const upper = method.trim().toUpperCase();
  if ((httpMethods as readonly string[]).includes(upper)) return upper as HttpMethod;
  ctx.addIssue({ code: "custom", message: `expected one of ${httpMethods.join(", ")}, got ${describe(method)}`, input: method });
  return z.NEVER;
});

const headerName = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

const headersSchema = z.unknown().transform((input, ctx) => {
  if (!isPlainMap(input)) {
    ctx.addIssue({ code: "custom", message: `expected a map of header: value, got ${describe(input)}`, input });
    return z.NEVER;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input)) {
    if (!headerName.test(name)) {
      ctx.addIssue({ code: "custom", message: `invalid header name ${JSON.stringify(name)}${name.includes("{{") ? " (templates are not expanded in header names)" : ""}`, path: [name], input: name });
    } else if (typeof value !== "string") {
      const hint = typeof value === "number" || typeof value === "boolean" ? `; ${QUOTE_HINT}` : "";
      ctx.addIssue({ code: "custom", message: `expected a string, got ${describe(value)}${hint}`, path: [name], input: value });
    } else if (/[\r\n\0]/.test(value)) {
      ctx.addIssue({ code: "custom", message: "a header value cannot contain line breaks", path: [name], input: value });
    } else {
      headers[name] = value;
    }
  }
  return headers;
});

const bodySchema = z.unknown().transform((input, ctx) => {
  if (typeof input === "string") return input;
  if (isPlainMap(input)) return input;
  ctx.addIssue({ code: "custom", message: `expected a string (sent as is) or a map (sent as JSON), got ${describe(input)}`, input });
  return z.NEVER;
});

/** `200`, `"2xx"`, or a list of them; expanded to the codes. */
const expectStatusSchema = z.unknown().transform((input, ctx) => {
  const list: unknown[] = Array.isArray(input) ? input : [input];
  if (list.length === 0) {
    ctx.addIssue({ code: "custom", message: "expected a status code, a class like 2xx, or a list of them", input });
    return z.NEVER;
  }
  const codes = new Set<number>();
  list.forEach((item, index) => {
    const path = Array.isArray(input) ? [index] : [];
    const text = typeof item === "string" ? item.trim().toLowerCase() : undefined;
    if (typeof item === "number" && Number.isInteger(item) && item >= 100 && item <= 599) codes.add(item);
    else if (text !== undefined && /^[1-5]xx$/.test(text)) for (let code = Number(text[0]) * 100; code < Number(text[0]) * 100 + 100; code++) codes.add(code);
    else if (text !== undefined && /^[1-5]\d\d$/.test(text)) codes.add(Number(text));
    else ctx.addIssue({ code: "custom", message: `expected a status code (100-599) or a class like 2xx, got ${describe(item)}`, path, input: item });
  });
  return [...codes].sort((a, b) => a - b);
});

const requestFields = {
  method: methodSchema.optional(),
  url: nonEmptyText,
  headers: headersSchema.optional(),
  body: bodySchema.optional(),
  expect_status: expectStatusSchema.optional(),
};

type RequestInput = { method?: HttpMethod | undefined; body?: unknown };

function checkBodyAllowed(request: RequestInput, ctx: z.RefinementCtx): void {
  const method = request.method ?? "GET";
  if (request.body !== undefined && (method === "GET" || method === "HEAD")) {
    ctx.addIssue({ code: "custom", path: ["body"], message: `a ${method} request has no body; use POST, PUT or PATCH`, input: request.body });
  }
}

const httpSchema = z.strictObject(requestFields).superRefine(checkBodyAllowed);

const checkHttpSchema = z.strictObject({ ...requestFields, body_contains: nonEmptyText.optional() }).superRefine(checkBodyAllowed);

const retriesSchema = z.strictObject({
  attempts: z
    .number()
    .int("must be a whole number")
    .min(0, "must be 0 or more")
    .max(MAX_RETRY_ATTEMPTS, `must be at most ${MAX_RETRY_ATTEMPTS}: a step that fails ten times will not succeed on the eleventh`)
    .optional(),
  delay: durationSchema({ minMs: 0, maxMs: HOUR_MS }).optional(),
});

const checkSchema = z
  .strictObject({
    http: checkHttpSchema.optional(),
    prometheus: nonEmptyText.optional(),
    expect: z.enum(["nonempty", "empty"]).optional(),
    within: durationSchema({ maxMs: HOUR_MS }),
    every: durationSchema({ minMs: 1_000, maxMs: HOUR_MS }).optional(),
  })
  .superRefine((check, ctx) => {
    if (check.http === undefined && check.prometheus === undefined) {
      ctx.addIssue({ code: "custom", message: "a check needs one of http or prometheus", input: check });
    } else if (check.http !== undefined && check.prometheus !== undefined) {
      ctx.addIssue({ code: "custom", path: ["prometheus"], message: "a check has one of http or prometheus, not both: make two checks", input: check });
    }
    if (check.expect !== undefined && check.prometheus === undefined) {
      ctx.addIssue({ code: "custom", path: ["expect"], message: "expect applies to prometheus checks (an http check expects its status codes)", input: check.expect });
    }
    if (check.every !== undefined && check.every > check.within) {
      ctx.addIssue({ code: "custom", path: ["every"], message: "every must not be longer than within, or the check would run once", input: check.every });
    }
  });

/** Counts the kinds first: with two, the rest of the item cannot be judged (whose `timeout` is it?). */
const stepKindsCheck = z.unknown().superRefine((input, ctx) => {
  if (!isPlainMap(input)) return;
  const kinds = stepKinds.filter((kind) => Object.hasOwn(input, kind));
  if (kinds.length === 0) {
    ctx.addIssue({ code: "custom", message: `a step needs one of ${stepKinds.join(", ")}`, input });
  } else if (kinds.length > 1) {
    ctx.addIssue({ code: "custom", message: `a step has exactly one of ${stepKinds.join(", ")}, but this one has ${kinds.join(" and ")}: make it ${kinds.length} steps`, input });
  }
});

const stepSchema = stepKindsCheck.pipe(
  z
    .strictObject({
      name: titleSchema.optional(),
      run: argvSchema.optional(),
      http: httpSchema.optional(),
      wait: durationSchema({ maxMs: HOUR_MS }).optional(),
      check: checkSchema.optional(),
      timeout: durationSchema({ maxMs: HOUR_MS }).optional(),
      retries: retriesSchema.optional(),
    })
    .superRefine((step, ctx) => {
      if (step.wait === undefined && step.check === undefined) return;
      const kind = step.wait !== undefined ? "wait" : "check";
      const why = kind === "wait" ? "a wait step only waits" : "a check has within and every";
      for (const key of ["timeout", "retries"] as const) {
        if (step[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: `${key} applies to run and http steps; ${why}`, input: step[key] });
      }
    }),
);

const runbookFileSchema = z.strictObject({
  id: idSchema,
  title: titleSchema,
  match: matchSchema.nullable().optional(),
  risk: z.enum(["low", "medium", "high"]),
  params: paramsSchema.nullable().optional(),
  steps: z.array(stepSchema).min(1, "a runbook needs at least one step (a page to read without steps has none of the runbook keys)"),
  starting_level: z.enum(["manual", "prompted", "standard"]).optional(),
});

type RunbookFile = z.output<typeof runbookFileSchema>;
type RequestOutput = z.output<typeof httpSchema>;
type StepOutput = RunbookFile["steps"][number];

// ---------------------------------------------------------------------------------------------
// One document

export interface ParsedRunbookText {
  runbook?: Runbook;
  problems: FileProblem[];
  /** Where a runbook's `id:` is, for problems found later (an id used twice); absent for pages. */
  idAt?: YamlPosition;
}

/**
 * One file's normalized text (see normalizeText) as a runbook or a page. `file` is the path
 * relative to the runbooks directory; it names problems, and its base name is the id to match.
 */
export function parseRunbookText(file: string, text: string, contentHash: string): ParsedRunbookText {
  const stem = fileStem(file);
  const split = splitFrontMatter(text);
  if (split.kind === "unclosed") {
    return { problems: [{ file, line: 1, column: 1, message: "the front matter that starts with --- on line 1 has no closing --- line" }] };
  }
  if (split.kind === "none") return pageOf(file, stem, undefined, split.body, contentHash);

  const parsed = parseYamlFile(split.yaml, file, { lineOffset: FRONT_MATTER_LINE_OFFSET });
  if (parsed.problems.length > 0) return { problems: parsed.problems };
  const value: unknown = parsed.value;
  if (value !== null && value !== undefined && !isPlainMap(value)) {
    return { problems: [{ file, ...parsed.locate([]), message: `front matter must be a map of keys, got ${describe(value)}` }] };
  }
  if (!isPlainMap(value) || !RUNBOOK_KEYS.some((key) => Object.hasOwn(value, key))) {
    return pageOf(file, stem, value ?? undefined, split.body, contentHash);
  }

  const result = safeParseYamlWithSchema(split.yaml, runbookFileSchema, file, { lineOffset: FRONT_MATTER_LINE_OFFSET });
  if (!result.ok) return { problems: result.problems };
  const problems = crossCheck(file, stem, result.value, result.locate);
  if (problems.length > 0) return { problems: sortProblems(problems) };
  return {
    runbook: toRunbook(file, result.value, stripLeadingBlankLines(split.body), contentHash),
    problems: [],
    idAt: result.locate(["id"]),
  };
}

/** What cannot be judged one field at a time: the file name, risk against level, every template. */
function crossCheck(file: string, stem: string, data: RunbookFile, locate: (path: YamlPath) => YamlPosition): FileProblem[] {
  const problems: FileProblem[] = [];
  const at = (path: YamlPath, message: string) => problems.push({ file, ...locate(path), path: formatPath(path), message });

  if (data.id !== stem) at(["id"], `must equal the file name: rename the file to ${data.id}.md or set id: ${stem}`);
  if (data.starting_level === "standard" && data.risk === "high") {
    at(["starting_level"], "a high-risk runbook never runs unattended, so it cannot start at standard (use manual or prompted)");
  }

  const params = new Set(Object.keys(data.params ?? {}));
  for (const [name, param] of Object.entries(data.params ?? {})) {
    if (param?.default === undefined) continue;
    const path = ["params", name, "default"];
    const templateProblems = checkTemplate(param.default, "default", params);
    templateProblems.forEach((message) => at(path, message));
    const parsed = parseTemplate(param.default);
    // A default with no template is a constant: if it cannot pass its own pattern, every run fails.
    if (templateProblems.length === 0 && "parts" in parsed && parsed.parts.every((p) => p.kind === "literal")) {
      const pattern = anchorPattern(param.pattern ?? DEFAULT_PARAM_PATTERN);
      if (!new RegExp(pattern).test(param.default)) at(path, `the default ${JSON.stringify(param.default)} does not match the param's pattern ${pattern}`);
    }
  }

  const check = (path: YamlPath, text: string, field: TemplateField) => checkTemplate(text, field, params).forEach((message) => at(path, message));
  const noTemplate = (path: YamlPath, text: string, what: string) => {
    if (text.includes("{{")) at(path, `templates are not expanded in ${what}`);
  };
  const checkRequest = (path: YamlPath, request: RequestOutput & { body_contains?: string | undefined }) => {
    check([...path, "url"], request.url, "url");
    for (const [name, value] of Object.entries(request.headers ?? {})) check([...path, "headers", name], value, "header");
    if (typeof request.body === "string") check([...path, "body"], request.body, "body");
    else if (request.body !== undefined) checkBodyTemplates([...path, "body"], request.body, params, at);
    if (request.body_contains !== undefined) noTemplate([...path, "body_contains"], request.body_contains, "body_contains (it is compared as written)");
  };

  data.steps.forEach((step, index) => {
    const path = ["steps", index];
    if (step.name !== undefined) noTemplate([...path, "name"], step.name, "step names (they are shown as written)");
    // argv[0] was checked by the schema: no templates at all there.
    step.run?.slice(1).forEach((arg, i) => check([...path, "run", i + 1], arg, "argv"));
    if (step.http) checkRequest([...path, "http"], step.http);
    if (step.check?.http) checkRequest([...path, "check", "http"], step.check.http);
    if (step.check?.prometheus !== undefined) check([...path, "check", "prometheus"], step.check.prometheus, "query");
  });
  return problems;
}

function checkBodyTemplates(path: YamlPath, value: unknown, params: ReadonlySet<string>, at: (path: YamlPath, message: string) => void): void {
  if (typeof value === "string") {
    checkTemplate(value, "body", params).forEach((message) => at(path, message));
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => checkBodyTemplates([...path, index], item, params, at));
  } else if (isPlainMap(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes("{{")) at([...path, key], "templates are not expanded in body keys");
      checkBodyTemplates([...path, key], item, params, at);
    }
  }
}

function toRunbook(file: string, data: RunbookFile, body: string, contentHash: string): Runbook {
  const params: RunbookParam[] = Object.entries(data.params ?? {}).map(([name, param]) => ({
    name,
    default: param?.default,
    pattern: anchorPattern(param?.pattern ?? DEFAULT_PARAM_PATTERN),
    description: param?.description,
  }));
  const match: RunbookMatch | undefined = data.match ? { alerts: data.match.alerts ?? [], labels: data.match.labels ?? [] } : undefined;
  return {
    id: data.id,
    title: data.title,
    file,
    kind: "runbook",
    match,
    risk: data.risk,
    params,
    steps: data.steps.map(toStep),
    startingLevel: (data.starting_level ?? "manual") satisfies TrustLevel,
    aliases: [],
    body,
    contentHash,
  };
}

const defaultExpectStatus = Array.from({ length: 100 }, (_, i) => 200 + i);

function toRequest(request: RequestOutput): HttpRequestSpec {
  return {
    method: request.method ?? "GET",
    url: request.url,
    headers: request.headers ?? {},
    body: request.body,
    expectStatus: request.expect_status ?? defaultExpectStatus,
  };
}

function toStep(step: StepOutput): RunbookStep {
  const name = step.name;
  const retries = { attempts: step.retries?.attempts ?? 0, delayMs: step.retries?.delay ?? DEFAULT_RETRY_DELAY_MS };
  if (step.run) return { type: "run", name, argv: step.run, timeoutMs: step.timeout ?? DEFAULT_RUN_TIMEOUT_MS, retries };
  if (step.http) return { type: "http", name, request: toRequest(step.http), timeoutMs: step.timeout ?? DEFAULT_HTTP_TIMEOUT_MS, retries };
  if (step.wait !== undefined) return { type: "wait", name, durationMs: step.wait };
  const check = step.check!;
  const condition: CheckStep["condition"] = check.http
    ? { kind: "http", request: toRequest(check.http), bodyContains: check.http.body_contains }
    : { kind: "prometheus", query: check.prometheus!, expect: check.expect ?? "nonempty" };
  return { type: "check", name, withinMs: check.within, everyMs: check.every ?? Math.min(DEFAULT_CHECK_EVERY_MS, check.within), condition };
}

// ---------------------------------------------------------------------------------------------
// Pages

function pageOf(file: string, stem: string, frontMatter: Record<string, unknown> | undefined, markdown: string, contentHash: string): ParsedRunbookText {
  const id = pageIdFromFileName(stem);
  if (id === undefined) {
    return { problems: [{ file, message: `cannot make an id from the file name ${JSON.stringify(stem)}: use letters or digits in it` }] };
  }
  const fmTitle = typeof frontMatter?.["title"] === "string" && frontMatter["title"].trim() !== "" ? frontMatter["title"].trim() : undefined;
  const title = truncate(firstHeading(markdown) ?? fmTitle ?? stem, MAX_TITLE_LENGTH);
  const aliases = [...new Set([fmTitle, stem].filter((alias): alias is string => alias !== undefined && alias !== title))];
  return {
    runbook: {
      id,
      title,
      file,
      kind: "page",
      match: undefined,
      risk: "low",
      params: [],
      steps: [],
      startingLevel: "manual",
      aliases,
      body: stripLeadingBlankLines(markdown),
      contentHash,
    },
    problems: [],
  };
}

/** `KubePodCrashLooping` → `kubepodcrashlooping`, `Disk full (NAS)` → `disk-full-nas`. */
export function pageIdFromFileName(stem: string): string | undefined {
  const id = stem
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64)
    .replace(/-+$/, "");
  return RUNBOOK_ID_PATTERN.test(id) ? id : undefined;
}

/** The first `# heading` outside fenced code blocks. */
export function firstHeading(markdown: string): string | undefined {
  let fence: string | undefined;
  for (const line of markdown.split("\n")) {
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch) {
      const marker = fenceMatch[1]!;
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const heading = /^ {0,3}#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (heading && heading[1]!.trim() !== "") return heading[1]!.trim();
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Matching

/**
 * Whether a runbook is written for this alert: its alert names (if any) include the alert's
 * name, and every label matcher holds. A runbook without match rules (and every page) matches
 * nothing here; search may still suggest it by similarity.
 */
export function matchesAlert(match: RunbookMatch | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!match || (match.alerts.length === 0 && match.labels.length === 0)) return false;
  if (match.alerts.length > 0) {
    const name = Object.hasOwn(labels, "alertname") ? labels["alertname"] : undefined;
    if (name === undefined || !match.alerts.includes(name)) return false;
  }
  return matchesAll(labels, match.labels);
}

// ---------------------------------------------------------------------------------------------

/** `prometheus-operator/KubePodCrashLooping.md` → `KubePodCrashLooping`. */
function fileStem(file: string): string {
  const base = file.slice(file.lastIndexOf("/") + 1);
  return base.toLowerCase().endsWith(".md") ? base.slice(0, -3) : base;
}

function stripLeadingBlankLines(text: string): string {
  return text.replace(/^(?:[ \t]*\n)+/, "");
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
