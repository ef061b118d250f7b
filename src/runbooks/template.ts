import { AppError } from "../errors.ts";
import type { Runbook, RunbookParam, RunbookStep } from "./types.ts";

/**
 * `{{ … }}` templates in runbook steps: parsing and load-time checks (which references may appear
 * where), and the run-time substitution the executor uses.
 *
 * Alert labels are attacker-influenced text, so they never reach a step directly: a param's
 * default may read `{{ labels.x }}`, and the value it resolves to must match the param's pattern
 * before any step sees it. Substitution is single-pass: a value that itself contains `{{ x }}` is
 * inserted literally, never expanded again.
 */

export const PARAM_NAME_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
const SECRET_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * The pattern a param gets when its file names none. Conservative on purpose: no spaces, quotes,
 * shell metacharacters, slashes or non-ASCII look-alikes, and it cannot start with `-` or `.`, so
 * a value can neither become a command-line option (`--kubeconfig=…`) nor a `..` path segment.
 * 253 characters is the longest DNS name, the longest thing most values (hosts, k8s names) are.
 */
export const DEFAULT_PARAM_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,252}";

/** A hard cap whatever the pattern says: values end up in argv, URLs and messages. */
export const MAX_PARAM_VALUE_LENGTH = 1024;

/** `^(?:…)$`: how a param's pattern is anchored, so `a|b` cannot match `a; rm -rf /` by its prefix. */
export function anchorPattern(pattern: string): string {
  return `^(?:${pattern})$`;
}

/** Where a secret named NAME comes from at run time. */
export function secretEnvName(name: string): string {
  return `TOPICOPS_SECRET_${name}`;
}

export type TemplateRef =
  | { kind: "param"; name: string }
  | { kind: "secret"; name: string }
  | { kind: "label"; name: string }
  | { kind: "annotation"; name: string };

export type TemplatePart = { kind: "literal"; text: string } | { kind: "ref"; ref: TemplateRef; source: string; index: number };

export type ParsedTemplate = { parts: TemplatePart[] } | { error: string; index: number };

const alertDataName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Splits text into literals and `{{ ref }}`s; a malformed `{{` is an error with its index. */
export function parseTemplate(text: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf("{{", pos);
    if (open < 0) break;
    if (open > pos) parts.push({ kind: "literal", text: text.slice(pos, open) });
    const close = text.indexOf("}}", open + 2);
    if (close < 0) return { error: `unclosed {{ (expected }} after ${shorten(text.slice(open))})`, index: open };
    const source = text.slice(open, close + 2);
    const inner = text.slice(open + 2, close).trim();
    if (inner.includes("{{")) return { error: `unclosed {{ before ${shorten(text.slice(open + 2 + text.slice(open + 2).indexOf("{{")))}`, index: open };
    const ref = parseRef(inner);
    if (typeof ref === "string") return { error: `${source}: ${ref}`, index: open };
    parts.push({ kind: "ref", ref, source, index: open });
    pos = close + 2;
  }
  if (pos < text.length) parts.push({ kind: "literal", text: text.slice(pos) });
  return { parts };
}

function parseRef(inner: string): TemplateRef | string {
  if (PARAM_NAME_PATTERN.test(inner)) return { kind: "param", name: inner };
  const dot = inner.indexOf(".");
  const head = dot < 0 ? inner : inner.slice(0, dot);
  const tail = dot < 0 ? "" : inner.slice(dot + 1);
  if (head === "secret") {
    if (SECRET_NAME_PATTERN.test(tail)) return { kind: "secret", name: tail };
    return `a secret name is upper case letters, digits and _ (at most 64), e.g. {{ secret.RADARR_API_KEY }}`;
  }
  if (head === "labels" || head === "annotations") {
    if (alertDataName.test(tail)) return { kind: head === "labels" ? "label" : "annotation", name: tail };
    return `expected {{ ${head}.NAME }} with a name of letters, digits and _`;
  }
  if (/^\$?\.?(Labels|Annotations|labels|annotations)\b/.test(inner) || inner.startsWith(".") || inner.startsWith("$")) {
    return "this is not a Go template: use {{ labels.NAME }} or {{ annotations.NAME }}, and only in a param's default";
  }
  if (inner === "") return "empty template: expected a param name, e.g. {{ namespace }}";
  return "expected a param name (lower case letters, digits and _, at most 32), secret.NAME, labels.NAME or annotations.NAME";
}

/**
 * Where a template string sits in a runbook; it decides which references may appear:
 * - `default`: a param's default, the only place alert data may be read;
 * - `argv`, `url`, `query`: params only (argv and URLs end up in logs and process lists, so no secrets);
 * - `header`, `body`: params and secrets.
 */
export type TemplateField = "default" | "argv" | "url" | "query" | "header" | "body";

/** Problems with the templates in `text` used as `field`, given the declared params; empty when fine. */
export function checkTemplate(text: string, field: TemplateField, params: ReadonlySet<string>): string[] {
  const parsed = parseTemplate(text);
  if ("error" in parsed) return [parsed.error];
  const problems: string[] = [];
  for (const part of parsed.parts) {
    if (part.kind !== "ref") continue;
    const problem = refProblem(part, field, params);
    if (problem !== undefined) problems.push(problem);
  }
  if (field === "url") problems.push(...urlProblems(text, parsed.parts));
  return problems;
}

function refProblem(part: Extract<TemplatePart, { kind: "ref" }>, field: TemplateField, params: ReadonlySet<string>): string | undefined {
  const { ref, source } = part;
  if (field === "default") {
    if (ref.kind === "label" || ref.kind === "annotation") return undefined;
    return `${source}: a param default may only read the alert, with {{ labels.NAME }} or {{ annotations.NAME }}`;
  }
  switch (ref.kind) {
    case "label":
    case "annotation":
      return (
        `${source}: alert data can only be read in a param's default; declare a param with ` +
        `default: "${source}" and use {{ param }} here, so the value is checked against the param's pattern`
      );
    case "secret":
      if (field === "header" || field === "body") return undefined;
      if (field === "argv") return `${source}: secrets may only be used in http headers and bodies: a command line ends up in logs and process lists`;
      if (field === "url") return `${source}: secrets may only be used in http headers and bodies: URLs end up in logs (ours, proxies' and the server's); send it in a header`;
      return `${source}: secrets may only be used in http headers and bodies: queries end up in logs`;
    case "param":
      if (params.has(ref.name)) return undefined;
      return params.size === 0
        ? `${source}: unknown param "${ref.name}" (this runbook declares no params)`
        : `${source}: unknown param "${ref.name}" (declared: ${[...params].join(", ")})`;
  }
}

type UrlSection = "scheme" | "host" | "path" | "query-name" | "query-value" | "fragment";

interface UrlSlot {
  part: Extract<TemplatePart, { kind: "ref" }>;
  section: UrlSection;
  /** Index of the path segment the template is in (path only). */
  segment: number;
}

/** Which part of the URL each template sits in; templates cannot contain `/`, `?` or `#`, so none spans two. */
function urlSlots(parts: readonly TemplatePart[]): UrlSlot[] {
  const slots: UrlSlot[] = [];
  let section: UrlSection = "scheme";
  let schemeSeen = "";
  let segment = 0;
  for (const part of parts) {
    if (part.kind === "ref") {
      slots.push({ part, section, segment });
      continue;
    }
    for (const c of part.text) {
      switch (section) {
        case "scheme":
          schemeSeen += c;
          if (schemeSeen.endsWith("://")) section = "host";
          break;
        case "host":
          if (c === "/") {
            section = "path";
            segment = 1;
          } else if (c === "?") section = "query-name";
          else if (c === "#") section = "fragment";
          break;
        case "path":
          if (c === "/") segment++;
          else if (c === "?") section = "query-name";
          else if (c === "#") section = "fragment";
          break;
        case "query-name":
          if (c === "=") section = "query-value";
          else if (c === "#") section = "fragment";
          break;
        case "query-value":
          if (c === "&") section = "query-name";
          else if (c === "#") section = "fragment";
          break;
        case "fragment":
          break;
      }
    }
  }
  return slots;
}

const wholeHostTemplate = /^\{\{\s*[a-z][a-z0-9_]*\s*\}\}(:\d{1,5})?$/;

function urlProblems(url: string, parts: readonly TemplatePart[]): string[] {
  const scheme = /^https?:\/\//i.exec(url);
  if (!scheme) return ["a URL must start with http:// or https://, written out (not a template)"];
  const afterScheme = url.slice(scheme[0].length);
  const authority = afterScheme.slice(0, afterScheme.search(/[/?#]|$/));
  if (authority.includes("@")) {
    return ["no user:password@ in URLs: URLs end up in logs; send credentials in a header, e.g. Authorization: Bearer {{ secret.NAME }}"];
  }
  const problems: string[] = [];
  for (const slot of urlSlots(parts)) {
    const source = slot.part.source;
    if (slot.section === "scheme") problems.push(`${source}: the scheme must be written out`);
    else if (slot.section === "host" && !wholeHostTemplate.test(authority)) {
      problems.push(`${source}: in the host, a template must be the whole host name, e.g. http://{{ host }}:8080/`);
    } else if (slot.section === "query-name") problems.push(`${source}: templates may be used in query values, not in parameter names`);
    else if (slot.section === "fragment") problems.push(`${source}: templates are not allowed in the #fragment`);
  }
  if (problems.length > 0) return problems;
  const sample = parts.map((p) => (p.kind === "literal" ? p.text : "x")).join("");
  try {
    new URL(sample);
  } catch {
    return [`invalid URL ${shorten(url)}`];
  }
  return [];
}

// ---------------------------------------------------------------------------------------------
// Run time

export interface AlertData {
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}

/** Param name → value, every value already checked against its param's pattern. */
export type ParamValues = Readonly<Record<string, string>>;

export type ResolveParamsResult = { values: ParamValues } | { error: string };

/**
 * The value of every param for one run: an override (typed by a person via Modify, or proposed
 * by the LLM) or the default read from the alert, each checked against the param's pattern.
 * All problems are reported at once, each naming the param and its pattern.
 */
export function resolveParams(
  runbook: Pick<Runbook, "params">,
  alert: AlertData,
  overrides: Readonly<Record<string, string>> = {},
): ResolveParamsResult {
  const errors: string[] = [];
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  const declared = new Set(runbook.params.map((p) => p.name));
  for (const name of Object.keys(overrides)) {
    if (!declared.has(name)) {
      errors.push(declared.size === 0 ? `unknown param "${name}": this runbook has no params` : `unknown param "${name}" (this runbook has: ${[...declared].join(", ")})`);
    }
  }
  for (const param of runbook.params) {
    const resolved = paramValue(param, alert, overrides);
    if ("error" in resolved) {
      errors.push(resolved.error);
      continue;
    }
    const problem = valueProblem(param, resolved.value, resolved.from);
    if (problem !== undefined) errors.push(problem);
    else values[param.name] = resolved.value;
  }
  return errors.length > 0 ? { error: errors.join("; ") } : { values };
}

function paramValue(
  param: RunbookParam,
  alert: AlertData,
  overrides: Readonly<Record<string, string>>,
): { value: string; from: string | undefined } | { error: string } {
  if (Object.hasOwn(overrides, param.name)) {
    const value: unknown = overrides[param.name];
    if (typeof value !== "string") return { error: `param "${param.name}": expected a string value` };
    return { value, from: undefined };
  }
  if (param.default === undefined) return { error: `param "${param.name}" has no default, so it needs a value (Modify)` };
  const parsed = parseTemplate(param.default);
  // Load-time validation makes this unreachable for loaded runbooks; still never guess.
  if ("error" in parsed) return { error: `param "${param.name}": its default is invalid: ${parsed.error}` };
  let value = "";
  const sources: string[] = [];
  for (const part of parsed.parts) {
    if (part.kind === "literal") {
      value += part.text;
      continue;
    }
    const { ref } = part;
    if (ref.kind !== "label" && ref.kind !== "annotation") {
      return { error: `param "${param.name}": its default may only read labels and annotations, not ${part.source}` };
    }
    const data = ref.kind === "label" ? alert.labels : alert.annotations;
    const found = Object.hasOwn(data, ref.name) ? data[ref.name] : undefined;
    const path = `${ref.kind === "label" ? "labels" : "annotations"}.${ref.name}`;
    // Alertmanager drops empty labels, so "" and absent mean the same: there is nothing to use.
    if (typeof found !== "string" || found === "") {
      return { error: `param "${param.name}": the alert has no ${ref.kind} "${ref.name}" (its default is ${JSON.stringify(param.default)}); give a value (Modify)` };
    }
    value += found;
    sources.push(path);
  }
  return { value, from: sources.length > 0 ? sources.join(", ") : undefined };
}

function valueProblem(param: RunbookParam, value: string, from: string | undefined): string | undefined {
  const origin = from === undefined ? "" : ` (from ${from})`;
  if (value.length > MAX_PARAM_VALUE_LENGTH) {
    return `param "${param.name}": value${origin} is ${value.length} characters long; the limit is ${MAX_PARAM_VALUE_LENGTH}`;
  }
  let re: RegExp;
  try {
    re = new RegExp(param.pattern);
  } catch {
    return `param "${param.name}": its pattern ${param.pattern} does not compile`;
  }
  if (!re.test(value)) {
    return `param "${param.name}": value ${quoteValue(value)}${origin} does not match the param's pattern ${param.pattern}`;
  }
  return undefined;
}

/**
 * A value quoted for an error message that people read in a chat: control characters, bidi
 * overrides and non-ASCII look-alikes are shown as escapes (`p\u0430yments`, not `pаyments`), so
 * the reason a value was refused is visible; long values are cut.
 */
export function quoteValue(value: string): string {
  const limit = 60;
  const cut = value.length > limit ? value.slice(0, limit) : value;
  let out = "";
  for (const c of cut) {
    const code = c.codePointAt(0)!;
    if (c === '"' || c === "\\") out += `\\${c}`;
    else if (code >= 0x20 && code < 0x7f) out += c;
    else if (c === "\n") out += "\\n";
    else if (c === "\t") out += "\\t";
    else if (c === "\r") out += "\\r";
    else out += code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return value.length > limit ? `"${out}…" (${value.length} characters)` : `"${out}"`;
}

/** A secret's value by name (from `TOPICOPS_SECRET_<NAME>`), or undefined when it is not set. */
export type SecretLookup = (name: string) => string | undefined;

function render(text: string, what: string, value: (part: Extract<TemplatePart, { kind: "ref" }>) => string): string {
  const parsed = parseTemplate(text);
  if ("error" in parsed) throw new AppError("config", `${what}: ${parsed.error}`);
  let out = "";
  for (const part of parsed.parts) out += part.kind === "literal" ? part.text : value(part);
  return out;
}

function paramOf(values: ParamValues, part: Extract<TemplatePart, { kind: "ref" }>, what: string): string {
  if (part.ref.kind !== "param") throw new AppError("config", `${what}: ${part.source} is not allowed here`);
  const value = Object.hasOwn(values, part.ref.name) ? values[part.ref.name] : undefined;
  if (value === undefined) throw new AppError("config", `${what}: no value for param "${part.ref.name}" (resolve params first)`);
  return value;
}

function secretOf(secrets: SecretLookup, part: Extract<TemplatePart, { kind: "ref" }>, what: string): string {
  const value = secrets(part.ref.name);
  if (value === undefined || value === "") {
    throw new AppError("config", `${what}: secret ${part.ref.name} is not set: set the environment variable ${secretEnvName(part.ref.name)}`, {
      details: { secret: part.ref.name, env: secretEnvName(part.ref.name) },
    });
  }
  return value;
}

/**
 * A run step's argv with params substituted. No shell is involved, so a value is one argument
 * whatever it contains; the patterns are what keeps a value from being an option (`-x`).
 */
export function renderArgv(argv: readonly string[], values: ParamValues): string[] {
  return argv.map((arg, index) => render(arg, `argv[${index}]`, (part) => paramOf(values, part, `argv[${index}]`)));
}

const hostValue = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/**
 * An http step's URL with params substituted: URL-encoded in the path and query values; a whole
 * host must be a host name or IPv4 address. Throws AppError("config") when the result would not
 * be the URL the runbook's author wrote (a different host, a `..` segment, not http(s)).
 */
export function renderUrl(url: string, values: ParamValues): string {
  const parsed = parseTemplate(url);
  if ("error" in parsed) throw new AppError("config", `url: ${parsed.error}`);
  const slots = new Map(urlSlots(parsed.parts).map((slot) => [slot.part, slot]));
  let out = "";
  const templatedSegments = new Set<number>();
  for (const part of parsed.parts) {
    if (part.kind === "literal") {
      out += part.text;
      continue;
    }
    const slot = slots.get(part)!;
    const value = paramOf(values, part, "url");
    switch (slot.section) {
      case "host":
        if (!hostValue.test(value)) throw new AppError("config", `url: param "${part.ref.name}" is used as the host, but ${quoteValue(value)} is not a host name`);
        out += value;
        break;
      case "path":
        templatedSegments.add(slot.segment);
        out += encodeURIComponent(value);
        break;
      case "query-value":
        out += encodeURIComponent(value);
        break;
      default:
        throw new AppError("config", `url: ${part.source} is not allowed in the ${slot.section} of a URL`);
    }
  }
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(out);
  } catch {
    throw new AppError("config", `url: ${quoteValue(out)} is not a valid URL`);
  }
  if (parsedUrl.protocol !== "http:" && parsedUrl.protocol !== "https:") {
    throw new AppError("config", `url: only http and https URLs are allowed, got ${parsedUrl.protocol}`);
  }
  // URL parsers resolve `.`/`..` segments (also when written %2e), so a value could move the
  // request to another endpoint; encodeURIComponent leaves dots alone.
  const rawPath = out.replace(/^https?:\/\/[^/?#]*/i, "").split(/[?#]/)[0] ?? "";
  rawPath.split("/").forEach((segment, index) => {
    // Segment 0 is the empty string before the path's leading "/", as in urlSlots.
    if (templatedSegments.has(index) && /^(?:\.|%2e){1,2}$/i.test(segment)) {
      throw new AppError("config", `url: a param value would make the path segment ${JSON.stringify(segment)}, which changes the path`);
    }
  });
  return out;
}

/** Header values with params and secrets substituted. The result holds secrets: never log it. */
export function renderHeaders(headers: Readonly<Record<string, string>>, values: ParamValues, secrets: SecretLookup): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, template] of Object.entries(headers)) {
    const what = `header ${name}`;
    const value = render(template, what, (part) => (part.ref.kind === "secret" ? secretOf(secrets, part, what) : paramOf(values, part, what)));
    // A secret read from a file often ends in a newline; in a header it would start a new header.
    if (/[\r\n\0]/.test(value)) throw new AppError("config", `${what}: the value contains a line break or NUL (check the secrets and params it uses)`);
    out[name] = value;
  }
  return out;
}

/**
 * The request body with params and secrets substituted: a string as is, a map as JSON (values are
 * substituted before encoding, so a value cannot break out of its JSON string). Holds secrets.
 */
export function renderBody(body: string | Readonly<Record<string, unknown>> | undefined, values: ParamValues, secrets: SecretLookup): string | undefined {
  if (body === undefined) return undefined;
  const one = (text: string) => render(text, "body", (part) => (part.ref.kind === "secret" ? secretOf(secrets, part, "body") : paramOf(values, part, "body")));
  if (typeof body === "string") return one(body);
  return JSON.stringify(mapStrings(body, one));
}

function mapStrings(value: unknown, fn: (text: string) => string): unknown {
  if (typeof value === "string") return fn(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, fn));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapStrings(item, fn)]));
  }
  return value;
}

/**
 * A PromQL query with params substituted. Values are escaped as for a double-quoted PromQL string,
 * where they almost always sit (`{namespace="{{ namespace }}"}`); the pattern already refused
 * quotes in any sane param, this is the second lock.
 */
export function renderQuery(query: string, values: ParamValues): string {
  return render(query, "query", (part) => paramOf(values, part, "query").replace(/[\\"'\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`)));
}

/** Every secret a runbook's steps use, so a missing one can be reported before anything runs. */
export function runbookSecrets(runbook: Pick<Runbook, "steps">): string[] {
  const names = new Set<string>();
  const scan = (value: unknown): void => {
    if (typeof value === "string") {
      const parsed = parseTemplate(value);
      if ("parts" in parsed) for (const part of parsed.parts) if (part.kind === "ref" && part.ref.kind === "secret") names.add(part.ref.name);
    } else if (Array.isArray(value)) value.forEach(scan);
    else if (value !== null && typeof value === "object") Object.values(value).forEach(scan);
  };
  for (const step of runbook.steps) scan(stepRequestParts(step));
  return [...names].sort();
}

function stepRequestParts(step: RunbookStep): unknown {
  if (step.type === "http") return [step.request.headers, step.request.body];
  if (step.type === "check" && step.condition.kind === "http") return [step.condition.request.headers, step.condition.request.body];
  return undefined;
}

function shorten(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
}
