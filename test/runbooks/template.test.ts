import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.ts";
import { parseRunbookFile } from "../../src/runbooks/load.ts";
import {
  checkTemplate,
  DEFAULT_PARAM_PATTERN,
  parseTemplate,
  quoteValue,
  renderArgv,
  renderBody,
  renderHeaders,
  renderQuery,
  renderUrl,
  resolveParams,
  runbookSecrets,
  type ParamValues,
} from "../../src/runbooks/template.ts";
import type { Runbook } from "../../src/runbooks/types.ts";
import { parseAlertmanager } from "../../src/sources/alertmanager.ts";
import { fixtureJson } from "../helpers/shared.ts";

function load(front: string[]): Runbook {
  const parsed = parseRunbookFile("t.md", ["---", "id: t", "title: T", "risk: low", ...front, "---", "# T", ""].join("\n"));
  expect(parsed.problems).toEqual([]);
  return parsed.runbook!;
}

const podRunbook = load([
  "params:",
  "  namespace:",
  '    default: "{{ labels.namespace }}"',
  '    pattern: "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"',
  "  pod:",
  '    default: "{{ labels.pod }}"',
  "  target:",
  '    default: "{{ labels.namespace }}/{{ labels.pod }}"',
  '    pattern: "[a-z0-9-]+/[a-z0-9-]+"',
  "steps:",
  '  - run: [kubectl, delete, pod, "{{ pod }}", --namespace, "{{ namespace }}"]',
]);

const defaultPattern = `^(?:${DEFAULT_PARAM_PATTERN})$`;

function alertFrom(fixture: string, index = 0) {
  const alert = parseAlertmanager(fixtureJson(`alertmanager/${fixture}`), { now: new Date("2025-11-18T10:00:00Z") }).alerts[index]!;
  return { labels: alert.labels, annotations: alert.annotations };
}

function errorOf(result: ReturnType<typeof resolveParams>): string {
  if (!("error" in result)) throw new Error(`expected an error, got ${JSON.stringify(result.values)}`);
  return result.error;
}

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected an AppError");
}

describe("resolveParams", () => {
  it("reads defaults from a real Alertmanager alert", () => {
    const result = resolveParams(podRunbook, alertFrom("assembled-firing-kube-pod-crashlooping.json"));
    expect(result).toEqual({ values: { namespace: "payments", pod: "payments-api-7c9d8b6f5d-x2k4p", target: "payments/payments-api-7c9d8b6f5d-x2k4p" } });
  });

  it("reads annotations, and literal text around a reference", () => {
    const runbook = load(["params:", "  url:", '    default: "see {{ annotations.runbook_url }}"', "    pattern: 'see https://[a-z./-]+'", "steps:", "  - wait: 1s"]);
    expect(resolveParams(runbook, alertFrom("assembled-firing-kube-pod-crashlooping.json"))).toEqual({
      values: { url: "see https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping" },
    });
  });

  it("prefers overrides, which must match the pattern too", () => {
    const alert = alertFrom("assembled-firing-kube-pod-crashlooping.json");
    expect(resolveParams(podRunbook, alert, { pod: "web-1" })).toMatchObject({ values: { pod: "web-1", namespace: "payments" } });
    expect(errorOf(resolveParams(podRunbook, alert, { namespace: "Payments" }))).toBe(
      'param "namespace": value "Payments" does not match the param\'s pattern ^(?:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$',
    );
    expect(errorOf(resolveParams(podRunbook, alert, { podd: "web-1" }))).toBe('unknown param "podd" (this runbook has: namespace, pod, target)');
  });

  it("refuses a label the alert does not have, rather than using an empty value", () => {
    const alert = alertFrom("assembled-firing-target-down-truncated.json");
    expect(errorOf(resolveParams(podRunbook, alert))).toBe(
      'param "pod": the alert has no label "pod" (its default is "{{ labels.pod }}"); give a value (Modify); ' +
        'param "target": the alert has no label "pod" (its default is "{{ labels.namespace }}/{{ labels.pod }}"); give a value (Modify)',
    );
  });

  it("asks for a value when a param has no default", () => {
    const runbook = load(["params:", "  size: { pattern: '[1-9][0-9]{0,4}Gi' }", "steps:", "  - wait: 1s"]);
    expect(errorOf(resolveParams(runbook, { labels: {}, annotations: {} }))).toBe('param "size" has no default, so it needs a value (Modify)');
    expect(resolveParams(runbook, { labels: {}, annotations: {} }, { size: "20Gi" })).toEqual({ values: { size: "20Gi" } });
  });

  describe("refuses injection attempts in labels, naming the param and its pattern", () => {
    const alert = alertFrom("assembled-firing-kube-pod-crashlooping.json");
    const attempts: [string, string][] = [
      ["x; rm -rf /", '"x; rm -rf /"'],
      ["$(id)", '"$(id)"'],
      ["`id`", '"`id`"'],
      ["web\nrm -rf /", '"web\\nrm -rf /"'],
      ["../../etc/passwd", '"../../etc/passwd"'],
      ["-oProxyCommand=sh", '"-oProxyCommand=sh"'],
      ["--kubeconfig=/tmp/evil", '"--kubeconfig=/tmp/evil"'],
      ["p\u0430yments-api", '"p\\u0430yments-api"'], // Cyrillic а
      ["payments\u200b-api", '"payments\\u200b-api"'], // zero-width space
      ["\uff50ayments", '"\\uff50ayments"'], // fullwidth p
      ["api\u202egnp.exe", '"api\\u202egnp.exe"'], // right-to-left override
      ["{{ secret.API_TOKEN }}", '"{{ secret.API_TOKEN }}"'],
      ["a".repeat(300), `"${"a".repeat(60)}…" (300 characters)`],
    ];
    for (const [value, quoted] of attempts) {
      it(JSON.stringify(value.length > 40 ? `${value.slice(0, 20)}… (${value.length})` : value), () => {
        const error = errorOf(resolveParams(podRunbook, { ...alert, labels: { ...alert.labels, pod: value } }));
        expect(error).toContain(`param "pod": value ${quoted} (from labels.pod) does not match the param's pattern ${defaultPattern}`);
        // The same value typed into Modify (or proposed by the LLM) is refused the same way.
        expect(errorOf(resolveParams(podRunbook, alert, { pod: value }))).toBe(`param "pod": value ${quoted} does not match the param's pattern ${defaultPattern}`);
      });
    }
  });

  it("caps values whatever the pattern allows", () => {
    const runbook = load(["params:", "  text: { pattern: '.+' }", "steps:", "  - wait: 1s"]);
    expect(errorOf(resolveParams(runbook, { labels: {}, annotations: {} }, { text: "x".repeat(1025) }))).toBe(
      'param "text": value is 1025 characters long; the limit is 1024',
    );
  });

  it("anchors patterns: an alternative cannot match a prefix", () => {
    const runbook = load(["params:", "  app: { pattern: 'radarr|sonarr' }", "steps:", "  - wait: 1s"]);
    expect(resolveParams(runbook, { labels: {}, annotations: {} }, { app: "sonarr" })).toEqual({ values: { app: "sonarr" } });
    expect(errorOf(resolveParams(runbook, { labels: {}, annotations: {} }, { app: "radarr; reboot" }))).toContain("^(?:radarr|sonarr)$");
  });
});

describe("rendering", () => {
  const values: ParamValues = { host: "nas.lan", app: "my app/x?y#z", q: "{{ host }}", dots: ".." };
  const secrets = (name: string) => ({ API_TOKEN: "t0ken", NEWLINE: "abc\n" })[name];

  it("substitutes argv in a single pass: a value holding {{ x }} stays literal", () => {
    expect(renderArgv(["echo", "q={{ q }}", "{{ app }}"], values)).toEqual(["echo", "q={{ host }}", "my app/x?y#z"]);
    expect(thrown(() => renderArgv(["echo", "{{ missing }}"], values)).message).toBe('argv[1]: no value for param "missing" (resolve params first)');
  });

  it("URL-encodes values in the path and query, and checks the result", () => {
    expect(renderUrl("http://{{ host }}:7878/api/v3/{{ app }}/x?name={{ app }}&q={{ q }}", values)).toBe(
      "http://nas.lan:7878/api/v3/my%20app%2Fx%3Fy%23z/x?name=my%20app%2Fx%3Fy%23z&q=%7B%7B%20host%20%7D%7D",
    );
    expect(thrown(() => renderUrl("http://{{ host }}/", { host: "evil.example/x" })).message).toBe(
      'url: param "host" is used as the host, but "evil.example/x" is not a host name',
    );
    expect(thrown(() => renderUrl("http://{{ host }}:80/", { host: "a@b" })).message).toContain("is not a host name");
    expect(thrown(() => renderUrl("http://x/api/{{ dots }}/admin", values)).message).toBe(
      'url: a param value would make the path segment "..", which changes the path',
    );
    expect(renderUrl("http://x/api/v{{ dots }}/", values)).toBe("http://x/api/v../");
  });

  it("fills headers and bodies with secrets, and names the variable of a missing one", () => {
    expect(renderHeaders({ Authorization: "Bearer {{ secret.API_TOKEN }}", "X-App": "{{ app }}" }, values, secrets)).toEqual({
      Authorization: "Bearer t0ken",
      "X-App": "my app/x?y#z",
    });
    const missing = thrown(() => renderHeaders({ "X-Api-Key": "{{ secret.RADARR_API_KEY }}" }, values, secrets));
    expect(missing.message).toBe("header X-Api-Key: secret RADARR_API_KEY is not set: set the environment variable TOPICOPS_SECRET_RADARR_API_KEY");
    expect(missing.code).toBe("config");
    const newline = thrown(() => renderHeaders({ "X-Api-Key": "{{ secret.NEWLINE }}" }, values, secrets));
    expect(newline.message).toBe("header X-Api-Key: the value contains a line break or NUL (check the secrets and params it uses)");
    expect(newline.message).not.toContain("abc");

    expect(renderBody('{"app":"{{ app }}"}', values, secrets)).toBe('{"app":"my app/x?y#z"}');
    expect(JSON.parse(renderBody({ token: "{{ secret.API_TOKEN }}", list: ["{{ q }}", 3], nested: { q: '"{{ app }}"' } }, values, secrets)!)).toEqual({
      token: "t0ken",
      list: ["{{ host }}", 3],
      nested: { q: '"my app/x?y#z"' },
    });
    expect(renderBody(undefined, values, secrets)).toBeUndefined();
    expect(thrown(() => renderBody("{{ secret.NOPE }}", values, secrets)).message).toContain("TOPICOPS_SECRET_NOPE");
  });

  it("escapes values in PromQL", () => {
    expect(renderQuery('up{job="{{ job }}"}', { job: 'a"} or vector(1) or {x="' })).toBe('up{job="a\\"} or vector(1) or {x=\\""}');
  });

  it("lists the secrets a runbook needs", () => {
    const runbook = load([
      "steps:",
      "  - http: { url: 'http://x/', headers: { X-Api-Key: '{{ secret.RADARR_API_KEY }}' } }",
      "  - check: { http: { url: 'http://x/', method: POST, body: { t: '{{ secret.HASS_TOKEN }}' } }, within: 1m }",
    ]);
    expect(runbookSecrets(runbook)).toEqual(["HASS_TOKEN", "RADARR_API_KEY"]);
  });
});

describe("template syntax", () => {
  it("splits text into literals and references", () => {
    expect(parseTemplate("a {{ x }}b{{secret.K}}")).toEqual({
      parts: [
        { kind: "literal", text: "a " },
        { kind: "ref", ref: { kind: "param", name: "x" }, source: "{{ x }}", index: 2 },
        { kind: "literal", text: "b" },
        { kind: "ref", ref: { kind: "secret", name: "K" }, source: "{{secret.K}}", index: 10 },
      ],
    });
    // JSON's closing braces after a template are not templates.
    expect(parseTemplate('{"a":{"b":"{{ x }}"}}')).toMatchObject({ parts: [{ kind: "literal" }, { kind: "ref" }, { kind: "literal", text: '"}}' }] });
  });

  it("explains malformed templates", () => {
    expect(parseTemplate("{{ }}")).toEqual({ error: "{{ }}: empty template: expected a param name, e.g. {{ namespace }}", index: 0 });
    expect(parseTemplate("x {{ secret.lower }}")).toMatchObject({ error: expect.stringContaining("a secret name is upper case") });
    expect(parseTemplate("{{ a {{ b }}")).toMatchObject({ error: expect.stringContaining("unclosed {{") });
    expect(parseTemplate("{{ Foo }}")).toMatchObject({ error: expect.stringContaining("expected a param name (lower case") });
    expect(parseTemplate("{{ $labels.pod }}")).toMatchObject({ error: expect.stringContaining("this is not a Go template") });
  });

  it("allows in a URL a whole host, path segments and query values only", () => {
    const params = new Set(["host", "id"]);
    expect(checkTemplate("https://{{ host }}:8443/a/{{ id }}.json?x={{ id }}&y=1", "url", params)).toEqual([]);
    expect(checkTemplate("{{ host }}/a", "url", params)).toEqual(["a URL must start with http:// or https://, written out (not a template)"]);
    expect(checkTemplate("http://x/?{{ id }}=1", "url", params)).toEqual(["{{ id }}: templates may be used in query values, not in parameter names"]);
    expect(checkTemplate("http://x/#{{ id }}", "url", params)).toEqual(["{{ id }}: templates are not allowed in the #fragment"]);
    expect(checkTemplate("http://api.{{ host }}/", "url", params)).toEqual([
      "{{ host }}: in the host, a template must be the whole host name, e.g. http://{{ host }}:8080/",
    ]);
  });

  it("allows secrets only in headers and bodies", () => {
    const none = new Set<string>();
    expect(checkTemplate("Bearer {{ secret.T }}", "header", none)).toEqual([]);
    expect(checkTemplate("{{ secret.T }}", "body", none)).toEqual([]);
    expect(checkTemplate("{{ secret.T }}", "query", none)).toEqual(["{{ secret.T }}: secrets may only be used in http headers and bodies: queries end up in logs"]);
    expect(checkTemplate("{{ x }}", "argv", none)).toEqual(['{{ x }}: unknown param "x" (this runbook declares no params)']);
  });

  it("shows refused values with look-alikes visible", () => {
    expect(quoteValue("p\u0430y\u0000\t\u{1F600}")).toBe('"p\\u0430y\\u0000\\t\\u{1f600}"');
  });
});
