import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createMatcher,
  formatMatcher,
  formatMatchers,
  matchersSchema,
  matchesAll,
  MAX_REGEX_LENGTH,
  parseMatcher,
  parseMatchers,
} from "../../src/util/matchers.ts";

const shape = (text: string) => {
  const m = parseMatcher(text);
  return { name: m.name, op: m.op, value: m.value };
};

describe("parseMatcher", () => {
  it("reads every operator, quoted", () => {
    expect(shape('severity="critical"')).toEqual({ name: "severity", op: "=", value: "critical" });
    expect(shape('severity!="info"')).toEqual({ name: "severity", op: "!=", value: "info" });
    expect(shape('namespace=~"home.*"')).toEqual({ name: "namespace", op: "=~", value: "home.*" });
    expect(shape('namespace!~"kube-.*"')).toEqual({ name: "namespace", op: "!~", value: "kube-.*" });
  });

  it("reads unquoted values and whitespace around the operator", () => {
    expect(shape("severity=critical")).toEqual({ name: "severity", op: "=", value: "critical" });
    expect(shape("  severity  !=  info  ")).toEqual({ name: "severity", op: "!=", value: "info" });
    expect(shape("alertname =~ Node.*|Kube.*")).toEqual({ name: "alertname", op: "=~", value: "Node.*|Kube.*" });
    expect(shape("_private_1=")).toEqual({ name: "_private_1", op: "=", value: "" });
  });

  it('unescapes \\" and \\\\ in quoted values and keeps other backslashes for regexes', () => {
    expect(shape('summary="say \\"hi\\""').value).toBe('say "hi"');
    expect(shape('path="C:\\\\temp"').value).toBe("C:\\temp");
    expect(shape('host=~"db\\.example\\.com"').value).toBe("db\\.example\\.com");
    expect(shape('a=" spaced , comma "').value).toBe(" spaced , comma ");
  });

  it("tests equality and inequality", () => {
    const eq = parseMatcher('severity="critical"');
    expect(eq.test({ severity: "critical" })).toBe(true);
    expect(eq.test({ severity: "Critical" })).toBe(false);
    expect(eq.test({})).toBe(false);
    const ne = parseMatcher('severity!="info"');
    expect(ne.test({ severity: "warning" })).toBe(true);
    expect(ne.test({ severity: "info" })).toBe(false);
  });

  it("anchors regexes at both ends, like Alertmanager", () => {
    const m = parseMatcher('namespace=~"home.*"');
    expect(m.test({ namespace: "home-assistant" })).toBe(true);
    expect(m.test({ namespace: "my-home" })).toBe(false);
    const alt = parseMatcher('severity=~"critical|page"');
    expect(alt.test({ severity: "page" })).toBe(true);
    // Without the group, ^critical|page$ would match "criticality".
    expect(alt.test({ severity: "criticality" })).toBe(false);
    const not = parseMatcher('namespace!~"kube-.*"');
    expect(not.test({ namespace: "kube-system" })).toBe(false);
    expect(not.test({ namespace: "apps" })).toBe(true);
    expect(not.test({ namespace: "my-kube-thing" })).toBe(true);
  });

  it("treats a missing label as the empty string", () => {
    const labels = { alertname: "X" };
    expect(parseMatcher('namespace=""').test(labels)).toBe(true);
    expect(parseMatcher('namespace!="x"').test(labels)).toBe(true);
    expect(parseMatcher('namespace!=""').test(labels)).toBe(false);
    expect(parseMatcher('namespace=~".*"').test(labels)).toBe(true);
    expect(parseMatcher('namespace=~".+"').test(labels)).toBe(false);
    expect(parseMatcher('namespace!~".+"').test(labels)).toBe(true);
    // Inherited properties are not labels.
    expect(parseMatcher('constructor=""').test({})).toBe(true);
    expect(parseMatcher('toString=~".+"').test({})).toBe(false);
  });

  it("accepts a leading (?i) the way RE2 configs write it", () => {
    const m = parseMatcher('job=~"(?i)home-?assistant"');
    expect(m.test({ job: "HomeAssistant" })).toBe(true);
    expect(m.test({ job: "home-assistant" })).toBe(true);
    expect(m.value).toBe("(?i)home-?assistant");
  });

  it("compiles a regex once, not per test", () => {
    const original = RegExp;
    let constructed = 0;
    const counting = new Proxy(original, {
      construct(target, args: [string, string?]) {
        constructed++;
        return new target(...args);
      },
    });
    globalThis.RegExp = counting;
    try {
      const m = parseMatcher('a=~"x.*"');
      const before = constructed;
      for (let i = 0; i < 100; i++) m.test({ a: `x${i}` });
      expect(constructed).toBe(before);
      expect(before).toBeGreaterThan(0);
    } finally {
      globalThis.RegExp = original;
    }
  });

  it("rejects bad input with a reason that names the matcher", () => {
    expect(() => parseMatcher('1abc="x"')).toThrow(`invalid matcher '1abc="x"': expected a label name ([a-zA-Z_][a-zA-Z0-9_]*) at the start`);
    expect(() => parseMatcher("severity")).toThrow(`invalid matcher 'severity': expected one of =, !=, =~, !~ after "severity"`);
    expect(() => parseMatcher('a="open')).toThrow(`invalid matcher 'a="open': unterminated quoted value`);
    expect(() => parseMatcher('a="b" c')).toThrow(`invalid matcher 'a="b" c': unexpected text after the closing quote`);
    expect(() => parseMatcher("a==b")).toThrow(`invalid matcher 'a==b': unexpected "=" after the operator`);
    expect(() => parseMatcher("a=b,c=d")).toThrow(`invalid matcher 'a=b,c=d': unquoted value contains ","; put the value in double quotes`);
  });

  it("rejects an invalid regex, naming the matcher", () => {
    expect(() => parseMatcher('alertname=~"Node(.*"')).toThrow(`invalid matcher 'alertname=~"Node(.*"': invalid regular expression: Unterminated group`);
    expect(() => createMatcher("alertname", "=~", "[a-")).toThrow(/^invalid matcher 'alertname=~"\[a-"': invalid regular expression: /);
  });

  it("refuses regexes that could backtrack for ever, or that RE2 would not accept", () => {
    expect(() => parseMatcher('a=~"(x+)+y"')).toThrow(
      `invalid matcher 'a=~"(x+)+y"': regular expression not accepted: nested unbounded quantifiers such as (a+)+ can take exponential time; rewrite the pattern`,
    );
    expect(() => parseMatcher('a=~"(.*a){2,}"')).toThrow(/nested unbounded quantifiers/);
    expect(() => parseMatcher('a=~"(a)\\1"')).toThrow(/backreferences are not supported/);
    expect(() => parseMatcher('a=~"foo(?!bar)"')).toThrow(/lookaround is not supported/);
    expect(() => parseMatcher('a=~"x(?i)y"')).toThrow(/inline flags are only supported at the very start/);
    const long = "x".repeat(MAX_REGEX_LENGTH + 1);
    expect(() => createMatcher("a", "=~", long)).toThrow(`regular expression is ${MAX_REGEX_LENGTH + 1} characters long; the limit is ${MAX_REGEX_LENGTH}`);
    expect(() => createMatcher("a", "=~", "x".repeat(MAX_REGEX_LENGTH))).not.toThrow();
    // Quantified groups without an inner unbounded quantifier are fine, as are bounded repeats.
    expect(parseMatcher('a=~"(?:ab|cd)+"').test({ a: "abcdab" })).toBe(true);
    expect(parseMatcher('a=~"(x+){0,3}"').test({ a: "xxx" })).toBe(true);
    expect(parseMatcher('a=~"(?P<word>\\w+)"').test({ a: "hello" })).toBe(true);
  });

  it("rejects a bad label name in createMatcher", () => {
    expect(() => createMatcher("app.kubernetes.io/name", "=", "x")).toThrow(
      `invalid matcher 'app.kubernetes.io/name="x"': invalid label name "app.kubernetes.io/name" (must match [a-zA-Z_][a-zA-Z0-9_]*)`,
    );
  });
});

describe("formatMatcher", () => {
  it("quotes and escapes so that parsing gives the same matcher back", () => {
    for (const text of ['a="plain"', 'b!="with \\"quotes\\" and \\\\"', 'c=~"x\\\\.y|z"', 'd!~""']) {
      const m = parseMatcher(text);
      expect(formatMatcher(m)).toBe(text);
      expect(shape(formatMatcher(m))).toEqual(shape(text));
    }
    expect(formatMatcher(parseMatcher("severity = critical"))).toBe('severity="critical"');
    expect(formatMatchers(parseMatchers(["a=b", 'c=~"d"']))).toBe('{a="b", c=~"d"}');
  });
});

describe("parseMatchers", () => {
  it("reads a list of strings", () => {
    const ms = parseMatchers(['namespace=~"home.*"', "severity!=info"]);
    expect(ms.map(formatMatcher)).toEqual(['namespace=~"home.*"', 'severity!="info"']);
  });

  it("reads one string, several separated by commas, or Alertmanager's brace form", () => {
    expect(parseMatchers("severity=critical").map(formatMatcher)).toEqual(['severity="critical"']);
    expect(parseMatchers('{alertname="A", msg=~"x,y", }').map(formatMatcher)).toEqual(['alertname="A"', 'msg=~"x,y"']);
    expect(parseMatchers("a=b, c!=d").map(formatMatcher)).toEqual(['a="b"', 'c!="d"']);
    expect(parseMatchers("{}")).toEqual([]);
  });

  it("reads the object form: a value is equality, a list is any of", () => {
    const ms = parseMatchers({ severity: ["critical", "page"], team: "ops", replicas: 3 });
    expect(ms.map(formatMatcher)).toEqual(['severity=~"critical|page"', 'team="ops"', 'replicas="3"']);
    const [anyOf] = ms;
    expect(anyOf!.test({ severity: "page" })).toBe(true);
    expect(anyOf!.test({ severity: "critical" })).toBe(true);
    expect(anyOf!.test({ severity: "warning" })).toBe(false);
    expect(anyOf!.test({})).toBe(false);
    // List values are literal, not regexes.
    const dotted = parseMatchers({ host: ["a.b", "c|d"] })[0]!;
    expect(dotted.test({ host: "a.b" })).toBe(true);
    expect(dotted.test({ host: "axb" })).toBe(false);
    expect(dotted.test({ host: "c" })).toBe(false);
    expect(dotted.test({ host: "c|d" })).toBe(true);
    // Its displayed form is a regex that means the same thing.
    expect(parseMatcher(formatMatcher(dotted)).test({ host: "c|d" })).toBe(true);
    expect(parseMatcher(formatMatcher(dotted)).test({ host: "axb" })).toBe(false);
    expect(parseMatchers({ env: [""] }).map(formatMatcher)).toEqual(['env=""']);
  });

  it("treats null and undefined as no matchers", () => {
    expect(parseMatchers(undefined)).toEqual([]);
    expect(parseMatchers(null)).toEqual([]);
  });

  it("lists every problem at once", () => {
    expect(() => parseMatchers(['a="b"', 3, 'c=~"("'])).toThrow(
      `[1]: expected a matcher string like name="value", got number; [2]: invalid matcher 'c=~"("': invalid regular expression: Unterminated group`,
    );
    expect(() => parseMatchers({ "bad-name": "x", ok: null, empty: [] })).toThrow(
      "bad-name: invalid label name (must match [a-zA-Z_][a-zA-Z0-9_]*); ok: expected a value or a non-empty list of values, got null; empty: expected a value or a non-empty list of values, got an empty list",
    );
    expect(() => parseMatchers(42)).toThrow("expected a matcher string, a list of matcher strings or a map of label: value, got number");
    expect(() => parseMatchers("a=b,,c=d")).toThrow(`invalid matchers 'a=b,,c=d': empty matcher between commas`);
    expect(() => parseMatchers('{a="b"')).toThrow(`invalid matchers '{a="b"': missing closing }`);
  });
});

describe("matchersSchema", () => {
  it("reports the entry at fault by path", () => {
    const schema = z.object({ labels: matchersSchema });
    const result = schema.safeParse({ labels: ["a=b", 'c=~"("'] });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => [i.path, i.message])).toEqual([
      [["labels", 1], `invalid matcher 'c=~"("': invalid regular expression: Unterminated group`],
    ]);
    const ok = schema.parse({ labels: { severity: "critical" } });
    expect(ok.labels.map(formatMatcher)).toEqual(['severity="critical"']);
  });
});

describe("matchesAll", () => {
  it("needs every matcher to hold, and holds for none", () => {
    const ms = parseMatchers(['namespace=~"home.*"', 'severity!="info"']);
    expect(matchesAll({ namespace: "home", severity: "warning" }, ms)).toBe(true);
    expect(matchesAll({ namespace: "home", severity: "info" }, ms)).toBe(false);
    expect(matchesAll({ namespace: "apps", severity: "warning" }, ms)).toBe(false);
    expect(matchesAll({}, [])).toBe(true);
  });
});
