import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../src/runbooks/duration.ts";
import { firstHeading, matchesAlert, pageIdFromFileName, splitFrontMatter } from "../../src/runbooks/format.ts";
import { parseRunbookFile } from "../../src/runbooks/load.ts";
import type { Runbook } from "../../src/runbooks/types.ts";
import { formatMatcher } from "../../src/util/matchers.ts";
import { formatProblem } from "../../src/util/yaml-file.ts";

/**
 * A runbook file from front matter lines: the first line given is line 2 of the file (line 1 is
 * `---`), so a problem on `front[i]` is reported at line i + 2.
 */
function doc(...front: string[]): string {
  return ["---", ...front, "---", "", "# Restart web", "", "Restarts it."].join("\n");
}

function problems(text: string, file = "restart-web.md"): string[] {
  const parsed = parseRunbookFile(file, text);
  if (parsed.problems.length > 0) expect(parsed.runbook).toBeUndefined();
  return parsed.problems.map(formatProblem);
}

function runbook(text: string, file = "restart-web.md"): Runbook {
  const parsed = parseRunbookFile(file, text);
  expect(parsed.problems.map(formatProblem)).toEqual([]);
  return parsed.runbook!;
}

const head = ["id: restart-web", "title: Restart web", "risk: low"];
const nsParam = ["params:", "  namespace:", '    default: "{{ labels.namespace }}"'];

describe("a valid runbook", () => {
  it("becomes a Runbook with every default filled in", () => {
    const r = runbook(
      doc(
        ...head, // 2-4
        "match:", // 5
        "  alerts: [KubePodCrashLooping]", // 6
        "  labels: ['namespace=\"payments\"', 'severity=~\"warning|critical\"', 'pod=~\"web-.*\"']", // 7
        ...nsParam, // 8-10
        "  host:", // 11
        "    pattern: '[a-z]+'", // 12
        "    description: where", // 13
        "steps:", // 14
        '  - run: [kubectl, rollout, restart, deployment/web, --namespace, "{{ namespace }}"]',
        "  - name: ping",
        "    http: { url: 'http://{{ host }}:8080/health?ns={{ namespace }}', method: post, body: { ns: '{{ namespace }}' }, expect_status: [200, 3xx] }",
        "    timeout: 10s",
        "    retries: { attempts: 2, delay: 1m30s }",
        "  - wait: 500ms",
        "  - check: { prometheus: 'up{namespace=\"{{ namespace }}\"}', within: 10s }",
        "  - check:",
        "      http: { url: 'https://example.org/', headers: { Authorization: 'Bearer {{ secret.API_TOKEN }}' }, body_contains: ok }",
        "      within: 5m",
        "      every: 1m",
      ),
    );
    expect(r).toMatchObject({
      id: "restart-web",
      title: "Restart web",
      file: "restart-web.md",
      kind: "runbook",
      risk: "low",
      startingLevel: "manual",
      aliases: [],
      body: "# Restart web\n\nRestarts it.",
    });
    expect(r.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.match?.alerts).toEqual(["KubePodCrashLooping"]);
    expect(r.match?.labels.map(formatMatcher)).toEqual(['namespace="payments"', 'severity=~"warning|critical"', 'pod=~"web-.*"']);
    expect(r.params).toEqual([
      { name: "namespace", default: "{{ labels.namespace }}", pattern: "^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,252})$", description: undefined },
      { name: "host", default: undefined, pattern: "^(?:[a-z]+)$", description: "where" },
    ]);
    const [run, http, wait, prom, httpCheck] = r.steps;
    expect(run).toEqual({
      type: "run",
      name: undefined,
      argv: ["kubectl", "rollout", "restart", "deployment/web", "--namespace", "{{ namespace }}"],
      timeoutMs: 60_000,
      retries: { attempts: 0, delayMs: 5_000 },
    });
    expect(http).toMatchObject({ type: "http", name: "ping", timeoutMs: 10_000, retries: { attempts: 2, delayMs: 90_000 } });
    if (http?.type !== "http") throw new Error("expected an http step");
    expect(http.request.method).toBe("POST");
    expect(http.request.body).toEqual({ ns: "{{ namespace }}" });
    expect(http.request.expectStatus).toHaveLength(101);
    expect(http.request.expectStatus.slice(0, 3)).toEqual([200, 300, 301]);
    expect(wait).toEqual({ type: "wait", name: undefined, durationMs: 500 });
    expect(prom).toEqual({
      type: "check",
      name: undefined,
      withinMs: 10_000,
      everyMs: 10_000,
      condition: { kind: "prometheus", query: 'up{namespace="{{ namespace }}"}', expect: "nonempty" },
    });
    expect(httpCheck).toMatchObject({ withinMs: 300_000, everyMs: 60_000, condition: { kind: "http", bodyContains: "ok" } });
    if (httpCheck?.type !== "check" || httpCheck.condition.kind !== "http") throw new Error("expected an http check");
    expect(httpCheck.condition.request).toEqual({
      method: "GET",
      url: "https://example.org/",
      headers: { Authorization: "Bearer {{ secret.API_TOKEN }}" },
      body: undefined,
      expectStatus: Array.from({ length: 100 }, (_, i) => 200 + i),
    });
  });

  it("matches alerts by name and labels, both having to hold", () => {
    const r = runbook(doc(...head, "match:", "  alerts: [KubePodCrashLooping]", "  labels: ['namespace=~\"pay.*\"']", "steps:", "  - wait: 1s"));
    expect(matchesAlert(r.match, { alertname: "KubePodCrashLooping", namespace: "payments" })).toBe(true);
    expect(matchesAlert(r.match, { alertname: "KubePodCrashLooping", namespace: "web" })).toBe(false);
    expect(matchesAlert(r.match, { alertname: "KubePodNotReady", namespace: "payments" })).toBe(false);
    const labelsOnly = runbook(doc(...head, "match:", "  labels: { job: radarr }", "steps:", "  - wait: 1s"));
    expect(matchesAlert(labelsOnly.match, { alertname: "TargetDown", job: "radarr" })).toBe(true);
    expect(matchesAlert(labelsOnly.match, { alertname: "TargetDown", job: "sonarr" })).toBe(false);
    expect(matchesAlert(undefined, { alertname: "TargetDown" })).toBe(false);
    // `constructor` is not an alert name just because every object has one.
    const named = runbook(doc(...head, "match:", "  alerts: [constructor]", "steps:", "  - wait: 1s"));
    expect(matchesAlert(named.match, {})).toBe(false);
  });

  it("keeps the starting level it is given, and accepts CRLF and a BOM", () => {
    const r = runbook(`\uFEFF${doc(...head, "starting_level: prompted", "steps:", "  - wait: 1s").replace(/\n/g, "\r\n")}`);
    expect(r.startingLevel).toBe("prompted");
    expect(r.body).toBe("# Restart web\n\nRestarts it.");
  });
});

describe("every broken rule is reported at its line", () => {
  const run = '  - run: [kubectl, get, pods, --namespace, "{{ namespace }}"]';

  it("an unknown key (a typo must not silently disable anything)", () => {
    expect(problems(doc(...head, ...nsParam, "steps:", run, "    retires: 3"))).toEqual(["restart-web.md:10:5: steps[0].retires: unknown key"]);
    expect(problems(doc(...head, "description: x", "steps:", "  - wait: 1s"))).toEqual(["restart-web.md:5:1: description: unknown key"]);
  });

  it("a missing id, title or risk", () => {
    expect(problems(doc("title: Restart web", "risk: low", "steps:", "  - wait: 1s"))).toEqual(["restart-web.md:2:1: id: required"]);
    expect(problems(doc("id: restart-web", "steps:", "  - wait: 1s"))).toEqual([
      "restart-web.md:2:1: title: required",
      'restart-web.md:2:1: risk: expected one of "low", "medium", "high", got undefined',
    ]);
  });

  it("an id that is not the file name, or not an id at all", () => {
    expect(problems(doc("id: restart-webapp", "title: Restart web", "risk: low", "steps:", "  - wait: 1s"))).toEqual([
      "restart-web.md:2:5: id: must equal the file name: rename the file to restart-webapp.md or set id: restart-web",
    ]);
    expect(problems(doc("id: Restart_Web", "title: Restart web", "risk: low", "steps:", "  - wait: 1s"), "Restart_Web.md")).toEqual([
      "Restart_Web.md:2:5: id: must be lower case letters, digits and -, starting with a letter or digit, at most 64 characters",
    ]);
  });

  it("run given as a string, which would need a shell", () => {
    expect(problems(doc(...head, "steps:", "  - run: kubectl rollout restart deployment/web"))).toEqual([
      "restart-web.md:6:10: steps[0].run: run must be a list of arguments, e.g. [kubectl, rollout, restart, deployment/web], not a string: " +
        "a string would need a shell to split it, and steps never run through a shell, where a value from an alert could inject commands",
    ]);
  });

  it("an executable that is a template or a relative path, and unquoted numbers in argv", () => {
    expect(problems(doc(...head, ...nsParam, "steps:", '  - run: ["{{ namespace }}", x]', "  - run: [./fix.sh]", "  - run: [sleep, 5]"))).toEqual([
      "restart-web.md:9:11: steps[0].run[0]: the executable must be written out, not a template: which program runs must never depend on an alert",
      'restart-web.md:10:11: steps[1].run[0]: the executable must be a bare name looked up on PATH (kubectl) or an absolute path (/usr/bin/kubectl), got string "./fix.sh"',
      'restart-web.md:11:18: steps[2].run[1]: expected a string argument, got number 5; quote it ("5"): YAML reads unquoted numbers and booleans as such, and may change them (0755 becomes 755)',
    ]);
  });

  it("a bad duration, and a bare number where units matter", () => {
    expect(problems(doc(...head, "steps:", "  - run: [/bin/true]", "    timeout: 5 minutes"))).toEqual([
      'restart-web.md:7:14: steps[0].timeout: invalid duration "5 minutes": write whole numbers with a unit (ms, s, m, h), e.g. 500ms, 30s, 5m, 1h or 1m30s',
    ]);
    expect(problems(doc(...head, "steps:", "  - run: [/bin/true]", "    timeout: 30"))).toEqual([
      "restart-web.md:7:14: steps[0].timeout: a duration needs a unit: write 30s, 30m or 30ms, not 30",
    ]);
    expect(problems(doc(...head, "steps:", "  - wait: 2h"))).toEqual(["restart-web.md:6:11: steps[0].wait: must be at most 1h, got 2h"]);
    expect(problems(doc(...head, "steps:", "  - check: { prometheus: up, every: 30s }"))).toEqual(["restart-web.md:6:12: steps[0].check.within: required"]);
  });

  it("a template naming a param that is not declared", () => {
    expect(problems(doc(...head, ...nsParam, "steps:", '  - run: [kubectl, get, pods, -n, "{{ namspace }}"]'))).toEqual([
      'restart-web.md:9:35: steps[0].run[4]: {{ namspace }}: unknown param "namspace" (declared: namespace)',
    ]);
  });

  it("a secret in argv", () => {
    expect(problems(doc(...head, "steps:", '  - run: [curl, -H, "Authorization: Bearer {{ secret.API_TOKEN }}", https://example.org/]'))).toEqual([
      "restart-web.md:6:21: steps[0].run[2]: {{ secret.API_TOKEN }}: secrets may only be used in http headers and bodies: a command line ends up in logs and process lists",
    ]);
  });

  it("a secret in a URL", () => {
    expect(problems(doc(...head, "steps:", "  - http:", '      url: "https://example.org/api?token={{ secret.API_TOKEN }}"'))).toEqual([
      "restart-web.md:7:12: steps[0].http.url: {{ secret.API_TOKEN }}: secrets may only be used in http headers and bodies: URLs end up in logs (ours, proxies' and the server's); send it in a header",
    ]);
  });

  it("alert labels read in a step instead of a param default", () => {
    expect(problems(doc(...head, "steps:", '  - run: [kubectl, delete, pod, "{{ labels.pod }}"]'))).toEqual([
      'restart-web.md:6:33: steps[0].run[3]: {{ labels.pod }}: alert data can only be read in a param\'s default; declare a param with default: "{{ labels.pod }}" ' +
        "and use {{ param }} here, so the value is checked against the param's pattern",
    ]);
  });

  it("a malformed template, and what a param default may not contain", () => {
    expect(
      problems(
        doc(...head, "params:", "  pod:", '    default: "{{ .Labels.pod }}"', "  ns:", '    default: "{{ pod }}"', "steps:", '  - run: [echo, "{{ pod"]'),
      ),
    ).toEqual([
      "restart-web.md:7:14: params.pod.default: {{ .Labels.pod }}: this is not a Go template: use {{ labels.NAME }} or {{ annotations.NAME }}, and only in a param's default",
      "restart-web.md:9:14: params.ns.default: {{ pod }}: a param default may only read the alert, with {{ labels.NAME }} or {{ annotations.NAME }}",
      'restart-web.md:11:17: steps[0].run[1]: unclosed {{ (expected }} after "{{ pod")',
    ]);
  });

  it("a param pattern that does not compile, or could backtrack for ever", () => {
    expect(problems(doc(...head, "params:", "  pod:", "    pattern: '[a-z'", "  ns:", "    pattern: '(a+)+'", "steps:", "  - wait: 1s"))).toEqual([
      "restart-web.md:7:14: params.pod.pattern: invalid regular expression: Unterminated character class",
      "restart-web.md:9:14: params.ns.pattern: regular expression not accepted: nested unbounded quantifiers such as (a+)+ can take exponential time; rewrite the pattern",
    ]);
  });

  it("a constant default that fails its own pattern, and a bad param name", () => {
    expect(problems(doc(...head, "params:", "  size:", "    default: 20GB", "    pattern: '[0-9]+Gi'", "steps:", "  - wait: 1s"))).toEqual([
      'restart-web.md:7:14: params.size.default: the default "20GB" does not match the param\'s pattern ^(?:[0-9]+Gi)$',
    ]);
    expect(problems(doc(...head, "params:", "  Pod-Name: {}", "steps:", "  - wait: 1s"))).toEqual([
      "restart-web.md:6:13: params.Pod-Name: a param name is lower case letters, digits and _, starting with a letter, at most 32 characters",
    ]);
  });

  it("standard with risk high (never unattended)", () => {
    expect(problems(doc("id: restart-web", "title: Restart web", "risk: high", "starting_level: standard", "steps:", "  - wait: 1s"))).toEqual([
      "restart-web.md:5:17: starting_level: a high-risk runbook never runs unattended, so it cannot start at standard (use manual or prompted)",
    ]);
    expect(runbook(doc("id: restart-web", "title: Restart web", "risk: high", "starting_level: prompted", "steps:", "  - wait: 1s")).startingLevel).toBe("prompted");
  });

  it("two step kinds in one item, or none", () => {
    expect(problems(doc(...head, "steps:", "  - wait: 1s", "  - run: [true]", "    http: { url: 'http://example.org/' }", "  - name: nothing"))).toEqual([
      "restart-web.md:7:5: steps[1]: a step has exactly one of run, http, wait, check, but this one has run and http: make it 2 steps",
      "restart-web.md:9:5: steps[2]: a step needs one of run, http, wait, check",
    ]);
  });

  it("timeout and retries only where they mean something", () => {
    expect(problems(doc(...head, "steps:", "  - wait: 1s", "    timeout: 5s", "  - check: { prometheus: up, within: 1m }", "    retries: { attempts: 11 }"))).toEqual([
      "restart-web.md:7:14: steps[0].timeout: timeout applies to run and http steps; a wait step only waits",
      "restart-web.md:9:14: steps[1].retries: retries applies to run and http steps; a check has within and every",
      "restart-web.md:9:26: steps[1].retries.attempts: must be at most 10: a step that fails ten times will not succeed on the eleventh",
    ]);
  });

  it("http and check mistakes", () => {
    expect(
      problems(
        doc(
          ...head,
          "steps:",
          "  - http: { url: 'http://example.org/', body: x }", // 6
          "  - http: { url: 'http://example.org/', method: FETCH, expect_status: [200, 2xy] }", // 7
          "  - check: { http: { url: 'http://example.org/' }, prometheus: up, within: 1m }", // 8
          "  - check: { http: { url: 'http://example.org/' }, expect: empty, within: 1m }", // 9
          "  - check: { prometheus: up, within: 1m, every: 2m }", // 10
          "  - http: { url: 'http://user:pw@example.org/' }", // 11
          "  - http: { url: 'http://{{ host }}.lan/', headers: { 'X Key': a } }", // 12
        ),
      ),
    ).toEqual([
      "restart-web.md:6:47: steps[0].http.body: a GET request has no body; use POST, PUT or PATCH",
      'restart-web.md:7:49: steps[1].http.method: expected one of GET, HEAD, POST, PUT, PATCH, DELETE, got string "FETCH"',
      'restart-web.md:7:77: steps[1].http.expect_status[1]: expected a status code (100-599) or a class like 2xx, got string "2xy"',
      "restart-web.md:8:64: steps[2].check.prometheus: a check has one of http or prometheus, not both: make two checks",
      "restart-web.md:9:60: steps[3].check.expect: expect applies to prometheus checks (an http check expects its status codes)",
      "restart-web.md:10:49: steps[4].check.every: every must not be longer than within, or the check would run once",
      'restart-web.md:12:64: steps[6].http.headers["X Key"]: invalid header name "X Key"',
    ]);
    // Credentials and a templated host with a suffix are template-level problems, reported once the schema passes.
    expect(problems(doc(...head, "params:", "  host: {}", "steps:", "  - http: { url: 'http://user:pw@example.org/' }", "  - http: { url: 'http://{{ host }}.lan/' }"))).toEqual([
      "restart-web.md:8:18: steps[0].http.url: no user:password@ in URLs: URLs end up in logs; send credentials in a header, e.g. Authorization: Bearer {{ secret.NAME }}",
      "restart-web.md:9:18: steps[1].http.url: {{ host }}: in the host, a template must be the whole host name, e.g. http://{{ host }}:8080/",
    ]);
  });

  it("an empty match (it would match every alert) and an invalid matcher", () => {
    expect(problems(doc(...head, "match: { alerts: [] }", "steps:", "  - wait: 1s"))).toEqual([
      "restart-web.md:5:8: match: match needs at least one alert name (alerts) or label matcher (labels)",
    ]);
    expect(problems(doc(...head, "match:", "  labels: ['pod=~\"(a+)+\"']", "steps:", "  - wait: 1s"))).toEqual([
      `restart-web.md:6:12: match.labels[0]: invalid matcher 'pod=~"(a+)+"': regular expression not accepted: nested unbounded quantifiers such as (a+)+ can take exponential time; rewrite the pattern`,
    ]);
  });

  it("a runbook without steps", () => {
    expect(problems(doc(...head, "steps: []"))).toEqual([
      "restart-web.md:5:8: steps: a runbook needs at least one step (a page to read without steps has none of the runbook keys)",
    ]);
  });

  it("front matter that is not closed, not a map, or not YAML", () => {
    expect(problems("---\nid: restart-web\n\n# Restart web\n")).toEqual(["restart-web.md:1:1: the front matter that starts with --- on line 1 has no closing --- line"]);
    expect(problems("---\n- a\n- b\n---\n# x\n")).toEqual(["restart-web.md:2:1: front matter must be a map of keys, got a list"]);
    expect(problems("---\nid: [a\n---\n# x\n")[0]).toMatch(/^restart-web\.md:3:1: /);
  });
});

describe("pages", () => {
  it("plain markdown is a page that never runs", () => {
    const parsed = parseRunbookFile("wiki/NAS disk full!.md", "Some intro.\n\n```\n# not a heading\n```\n\n# NAS disk is full\n\nDelete old snapshots.\n");
    expect(parsed.problems).toEqual([]);
    expect(parsed.runbook).toMatchObject({
      id: "nas-disk-full",
      title: "NAS disk is full",
      file: "wiki/NAS disk full!.md",
      kind: "page",
      match: undefined,
      risk: "low",
      params: [],
      steps: [],
      startingLevel: "manual",
      aliases: ["NAS disk full!"],
    });
  });

  it("front matter without any runbook key (Hugo's title and weight) makes a page too", () => {
    const parsed = parseRunbookFile("KubePodCrashLooping.md", "---\ntitle: Kube Pod Crash Looping\nweight: 20\n---\n\n# KubePodCrashLooping\n\n## Meaning\n");
    expect(parsed.runbook).toMatchObject({
      id: "kubepodcrashlooping",
      title: "KubePodCrashLooping",
      kind: "page",
      aliases: ["Kube Pod Crash Looping"],
      body: "# KubePodCrashLooping\n\n## Meaning\n",
    });
  });

  it("without a heading the title comes from the front matter, then the file name", () => {
    expect(parseRunbookFile("x.md", "---\ntitle: Disk full\n---\nno heading\n").runbook).toMatchObject({ title: "Disk full", aliases: ["x"] });
    expect(parseRunbookFile("Disk_Full.md", "no heading\n").runbook).toMatchObject({ id: "disk-full", title: "Disk_Full", aliases: [] });
  });

  it("any runbook key in the front matter makes it a runbook, validated strictly", () => {
    expect(problems("---\ntitle: Kube Pod Crash Looping\nweight: 20\nrisk: low\n---\n# x\n", "KubePodCrashLooping.md")).toEqual([
      "KubePodCrashLooping.md:2:1: id: required",
      "KubePodCrashLooping.md:2:1: steps: required",
      "KubePodCrashLooping.md:3:1: weight: unknown key",
    ]);
  });

  it("a file name without letters or digits has no id", () => {
    expect(problems("# Hello\n", "___.md")).toEqual(['___.md: cannot make an id from the file name "___": use letters or digits in it']);
  });

  it("ids, headings and front matter splitting", () => {
    expect(pageIdFromFileName("KubePodCrashLooping")).toBe("kubepodcrashlooping");
    expect(pageIdFromFileName("--Disk  Full (NAS)--")).toBe("disk-full-nas");
    expect(pageIdFromFileName("a".repeat(70))).toBe("a".repeat(64));
    expect(firstHeading("## Two\n#Nope\n  # One ##\n")).toBe("One");
    expect(firstHeading("~~~\n# in code\n~~~\n")).toBeUndefined();
    expect(splitFrontMatter("---\na: 1\n...\nbody")).toEqual({ kind: "yaml", yaml: "a: 1\n", body: "body" });
    expect(splitFrontMatter("text\n---\n")).toEqual({ kind: "none", body: "text\n---\n" });
  });
});

describe("durations", () => {
  it("parses units and combinations, largest first", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("1h2m3s4ms")).toBe(3_723_004);
    expect(formatDuration(90_000)).toBe("1m30s");
    expect(formatDuration(3_723_004)).toBe("1h2m3s4ms");
  });

  it("refuses bare numbers, units in the wrong order and other text", () => {
    expect(() => parseDuration(30)).toThrow("a duration needs a unit: write 30s, 30m or 30ms, not 30");
    expect(() => parseDuration("30")).toThrow("a duration needs a unit");
    for (const bad of ["30s1m", "1.5h", "-5s", "5 s", "", "5d", "ms"]) expect(() => parseDuration(bad), bad).toThrow("invalid duration");
    expect(() => parseDuration(null)).toThrow("expected a duration such as 30s, got null");
  });
});
