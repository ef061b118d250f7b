import { z } from "zod";

/**
 * Alertmanager-style label matchers, shared by topic routing and runbook matching.
 *
 * Semantics follow Alertmanager so that a matcher copied from a route or a silence means the same
 * thing here: a missing label is the empty string, and regexes must match the whole value.
 */

type MatchOp = "=" | "!=" | "=~" | "!~";

export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  test(labels: Readonly<Record<string, string>>): boolean;
}

/** Config regexes are matched against label values that senders (and attackers) control. */
export const MAX_REGEX_LENGTH = 1000;

const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const labelNameAt = /[a-zA-Z_][a-zA-Z0-9_]*/y;

function isValidLabelName(name: string): boolean {
  return labelNamePattern.test(name);
}

/** Builds a matcher, checking the label name and compiling a regex once. Throws Error with the reason. */
export function createMatcher(name: string, op: MatchOp, value: string): Matcher {
  try {
    return buildMatcher(name, op, value);
  } catch (error) {
    throw new Error(`invalid matcher ${shorten(formatMatcher({ name, op, value }))}: ${(error as Error).message}`);
  }
}

function buildMatcher(name: string, op: MatchOp, value: string): Matcher {
  if (!isValidLabelName(name)) throw new Error(`invalid label name ${JSON.stringify(name)} (must match [a-zA-Z_][a-zA-Z0-9_]*)`);
  switch (op) {
    case "=":
      return freeze(name, op, value, (labels) => labelValue(labels, name) === value);
    case "!=":
      return freeze(name, op, value, (labels) => labelValue(labels, name) !== value);
    case "=~":
    case "!~": {
      const re = compileAnchored(value);
      return op === "=~"
        ? freeze(name, op, value, (labels) => re.test(labelValue(labels, name)))
        : freeze(name, op, value, (labels) => !re.test(labelValue(labels, name)));
    }
    default:
      throw new Error(`unknown operator ${JSON.stringify(op)} (use =, !=, =~ or !~)`);
  }
}

/**
 * Parses one matcher: `name="value"`, `name!="value"`, `name=~"re"`, `name!~"re"`, or the same with
 * an unquoted value (`severity=critical`). Throws Error naming the matcher and the reason.
 */
export function parseMatcher(text: string): Matcher {
  const fail = (reason: string): never => {
    throw new Error(`invalid matcher ${shorten(text)}: ${reason}`);
  };
  let pos = skipSpace(text, 0);
  labelNameAt.lastIndex = pos;
  const nameMatch = labelNameAt.exec(text);
  if (!nameMatch) return fail("expected a label name ([a-zA-Z_][a-zA-Z0-9_]*) at the start");
  const name = nameMatch[0];
  pos = skipSpace(text, pos + name.length);

  let op: MatchOp;
  if (text.startsWith("=~", pos)) op = "=~";
  else if (text.startsWith("!~", pos)) op = "!~";
  else if (text.startsWith("!=", pos)) op = "!=";
  else if (text.startsWith("=", pos)) op = "=";
  else return fail(`expected one of =, !=, =~, !~ after ${JSON.stringify(name)}`);
  pos = skipSpace(text, pos + op.length);

  let value: string;
  if (text[pos] === '"') {
    const quoted = readQuoted(text, pos);
    if (quoted === undefined) return fail("unterminated quoted value");
    value = quoted.value;
    if (skipSpace(text, quoted.end) !== text.length) return fail("unexpected text after the closing quote");
  } else {
    value = text.slice(pos).trim();
    const bad = /["{},]/.exec(value);
    if (bad) return fail(`unquoted value contains ${JSON.stringify(bad[0])}; put the value in double quotes`);
    // `a==b` or `a=~~b` are typos far more often than values that start with = or ~.
    if (/^[=~]/.test(value)) return fail(`unexpected ${JSON.stringify(value[0])} after the operator`);
  }
  try {
    return buildMatcher(name, op, value);
  } catch (error) {
    return fail((error as Error).message);
  }
}

/**
 * Matchers as written in YAML: one string (a matcher, or several separated by commas, optionally in
 * braces: `{a="b", c=~"d"}`), a list of matcher strings, or a map of label to value (equality) or
 * to a list of values (any of). null/undefined means no matchers. Throws Error listing every problem.
 */
export function parseMatchers(input: unknown): Matcher[] {
  const problems: string[] = [];
  const matchers = collectMatchers(input, (path, message) => {
    problems.push(path.length > 0 ? `${path.map((p) => (typeof p === "number" ? `[${p}]` : p)).join(".")}: ${message}` : message);
  });
  if (problems.length > 0) throw new Error(problems.join("; "));
  return matchers;
}

/** The same forms as parseMatchers, as a zod schema whose issues point at the offending entry. */
export const matchersSchema: z.ZodType<Matcher[]> = z.unknown().transform((input, ctx) => {
  let failed = false;
  const matchers = collectMatchers(input, (path, message) => {
    failed = true;
    ctx.addIssue({ code: "custom", message, path, input });
  });
  return failed ? z.NEVER : matchers;
});

export function matchesAll(labels: Readonly<Record<string, string>>, matchers: readonly Matcher[]): boolean {
  for (const matcher of matchers) if (!matcher.test(labels)) return false;
  return true;
}

/** `name="value"` with the value quoted and escaped so that parseMatcher reads it back unchanged. */
export function formatMatcher(m: Pick<Matcher, "name" | "op" | "value">): string {
  const escaped = m.value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  return `${m.name}${m.op}"${escaped}"`;
}

export function formatMatchers(matchers: readonly Matcher[]): string {
  return `{${matchers.map(formatMatcher).join(", ")}}`;
}

function collectMatchers(input: unknown, report: (path: (string | number)[], message: string) => void): Matcher[] {
  if (input === undefined || input === null) return [];
  if (typeof input === "string") {
    const parts = splitMatcherList(input);
    if (typeof parts === "string") {
      report([], parts);
      return [];
    }
    return parts.flatMap((part) => tryParse(part, [], report));
  }
  if (Array.isArray(input)) {
    return input.flatMap((item, index) => {
      if (typeof item !== "string") {
        report([index], `expected a matcher string like name="value", got ${describe(item)}`);
        return [];
      }
      return tryParse(item, [index], report);
    });
  }
  if (typeof input === "object") {
    const out: Matcher[] = [];
    for (const [name, raw] of Object.entries(input)) {
      if (!isValidLabelName(name)) {
        report([name], `invalid label name (must match [a-zA-Z_][a-zA-Z0-9_]*)`);
        continue;
      }
      if (isScalar(raw)) {
        out.push(createMatcher(name, "=", String(raw)));
      } else if (Array.isArray(raw) && raw.length > 0 && raw.every(isScalar)) {
        out.push(anyOf(name, raw.map(String)));
      } else {
        report([name], `expected a value or a non-empty list of values, got ${describe(raw)}`);
      }
    }
    return out;
  }
  report([], `expected a matcher string, a list of matcher strings or a map of label: value, got ${describe(input)}`);
  return [];
}

function tryParse(text: string, path: (string | number)[], report: (path: (string | number)[], message: string) => void): Matcher[] {
  try {
    return [parseMatcher(text)];
  } catch (error) {
    report(path, (error as Error).message);
    return [];
  }
}

/**
 * A list of values is one `=~` matcher (so it displays and round-trips like Alertmanager's), but it
 * tests with a set: no regex to compile, no length cap, no escaping pitfalls.
 */
function anyOf(name: string, values: string[]): Matcher {
  const unique = [...new Set(values)];
  if (unique.length === 1) return createMatcher(name, "=", unique[0]!);
  const set = new Set(unique);
  return freeze(name, "=~", unique.map(escapeRegex).join("|"), (labels) => set.has(labelValue(labels, name)));
}

function freeze(name: string, op: MatchOp, value: string, test: Matcher["test"]): Matcher {
  return Object.freeze({ name, op, value, test });
}

// `labels.constructor` and friends must not count as present labels.
function labelValue(labels: Readonly<Record<string, string>>, name: string): string {
  if (!Object.hasOwn(labels, name)) return "";
  const value = labels[name];
  return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  return typeof value === "object" ? "a map" : typeof value;
}

function skipSpace(text: string, pos: number): number {
  while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  return pos;
}

/** Reads a double-quoted value at `start`; `\"` and `\\` are escapes, `\n` a newline, other `\x` stay as written (regexes). */
function readQuoted(text: string, start: number): { value: string; end: number } | undefined {
  let value = "";
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\") {
      const next = text[i + 1];
      if (next === undefined) return undefined;
      value += next === '"' || next === "\\" ? next : next === "n" ? "\n" : c + next;
      i++;
    } else if (c === '"') {
      return { value, end: i + 1 };
    } else {
      value += c;
    }
  }
  return undefined;
}

/** Splits `{a="b", c=~"d,e"}` or `a=b, c=d` on commas outside quotes; returns a reason on error. */
function splitMatcherList(text: string): string[] | string {
  let body = text.trim();
  if (body.startsWith("{")) {
    if (!body.endsWith("}")) return `invalid matchers ${shorten(text)}: missing closing }`;
    body = body.slice(1, -1);
  }
  const parts: string[] = [];
  let current = "";
  let inQuote = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inQuote && c === "\\" && i + 1 < body.length) {
      current += c + body[i + 1];
      i++;
      continue;
    }
    if (c === '"') inQuote = !inQuote;
    if (c === "," && !inQuote) {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  parts.push(current);
  // A trailing comma is harmless (`{a="b",}`); an empty entry in the middle is a mistake.
  if (parts.length > 1 && parts[parts.length - 1]!.trim() === "") parts.pop();
  if (parts.length === 1 && parts[0]!.trim() === "") return [];
  if (parts.some((p) => p.trim() === "")) return `invalid matchers ${shorten(text)}: empty matcher between commas`;
  return parts.map((p) => p.trim());
}

/** Quotes user text for a message; a 1,000-character regex need not be repeated in full. */
function shorten(text: string): string {
  return `'${text.length > 80 ? `${text.slice(0, 77)}...` : text}'`;
}

function escapeRegex(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

/**
 * Compiles like Alertmanager (`^(?:re)$`). Alertmanager uses RE2; JavaScript backtracks, so features
 * RE2 lacks (backreferences, lookaround) are refused, and so are nested unbounded quantifiers such as
 * `(a+)+`, which can take exponential time on a hostile label value. A leading `(?i)` / `(?s)` is
 * translated to a flag because RE2 configs use it and Node 20 cannot.
 */
function compileAnchored(source: string): RegExp {
  if (source.length > MAX_REGEX_LENGTH) {
    throw new Error(`regular expression is ${source.length} characters long; the limit is ${MAX_REGEX_LENGTH}`);
  }
  let body = source;
  let flags = "";
  const flagPrefix = /^\(\?([a-zA-Z]+)\)/.exec(body);
  if (flagPrefix) {
    for (const flag of flagPrefix[1]!) {
      if (flag !== "i" && flag !== "s") throw new Error(`regular expression flag ${JSON.stringify(flag)} is not supported (only i and s)`);
      if (!flags.includes(flag)) flags += flag;
    }
    body = body.slice(flagPrefix[0].length);
  }
  const translated = checkRegex(body);
  try {
    return new RegExp(`^(?:${translated})$`, flags);
  } catch (error) {
    const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
    throw new Error(`invalid regular expression: ${reason}`);
  }
}

function checkRegex(source: string): string {
  const fail = (reason: string): never => {
    throw new Error(`regular expression not accepted: ${reason}`);
  };
  let out = "";
  let inClass = false;
  // For each open group: does it contain an unbounded quantifier?
  const groups: boolean[] = [false];
  // Does the atom just before the current position contain an unbounded quantifier?
  let lastAtomUnbounded = false;
  const quantify = (unbounded: boolean) => {
    if (unbounded) {
      if (lastAtomUnbounded) fail("nested unbounded quantifiers such as (a+)+ can take exponential time; rewrite the pattern");
      groups[groups.length - 1] = true;
    }
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "\\") {
      const next = source[i + 1];
      if (next === undefined) fail("trailing backslash");
      if (!inClass && (/[1-9]/.test(next!) || (next === "k" && source[i + 2] === "<"))) {
        fail("backreferences are not supported (Alertmanager uses RE2)");
      }
      out += c + next;
      i++;
      if (!inClass) lastAtomUnbounded = false;
      continue;
    }
    if (inClass) {
      if (c === "]") {
        inClass = false;
        lastAtomUnbounded = false;
      }
      out += c;
      continue;
    }
    switch (c) {
      case "[":
        inClass = true;
        // `[]` and `[^]` are complete classes in JavaScript; the scan must not treat `]` as literal.
        out += c;
        continue;
      case "(": {
        if (/^\(\?(=|!|<=|<!)/.test(source.slice(i, i + 4))) fail("lookaround is not supported (Alertmanager uses RE2)");
        if (source.startsWith("(?P<", i)) {
          out += "(?<";
          i += 3;
        } else if (/^\(\?[a-zA-Z-]+[:)]/.test(source.slice(i, i + 12))) {
          fail("inline flags are only supported at the very start, as (?i)");
        } else {
          out += c;
        }
        groups.push(false);
        continue;
      }
      case ")": {
        const inner = groups.length > 1 ? groups.pop()! : false;
        if (inner) groups[groups.length - 1] = true;
        lastAtomUnbounded = inner;
        out += c;
        continue;
      }
      case "*":
      case "+":
        quantify(true);
        out += c;
        if (source[i + 1] === "?") out += source[++i];
        continue;
      case "?":
        out += c;
        if (source[i + 1] === "?") out += source[++i];
        continue;
      case "{": {
        const braces = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
        if (braces) {
          quantify(braces[2] !== undefined && braces[3] === "");
          out += braces[0];
          i += braces[0].length - 1;
          if (source[i + 1] === "?") out += source[++i];
          continue;
        }
        break;
      }
      case "|":
        lastAtomUnbounded = false;
        out += c;
        continue;
      default:
        break;
    }
    lastAtomUnbounded = false;
    out += c;
  }
  return out;
}
