import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { prometheusQueryUrl } from "../../src/agent/prometheus.ts";
import { check, json, makeRunbook, request, startServer, testExecutor, wait, type TestServer } from "./support.ts";

/** A service that comes up after a few requests, and a stand-in for Prometheus's /api/v1/query. */
let service: TestServer;
let serviceHits = 0;
let upAfter = 0;

let prometheus: TestServer;
let answers: Array<[number, unknown]> = [];
const queries: string[] = [];

beforeAll(async () => {
  service = await startServer((req, res) => {
    serviceHits++;
    if (req.url === "/api/") {
      if (serviceHits <= upAfter) return json(res, 503, { message: "starting" });
      return json(res, 200, { message: "API running." });
    }
    if (req.url === "/status") return json(res, 200, { state: serviceHits <= upAfter ? "starting" : "ready" });
    res.writeHead(404);
    res.end();
  });
  prometheus = await startServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (!url.pathname.endsWith("/api/v1/query")) return json(res, 404, { status: "error", errorType: "not_found", error: url.pathname });
    queries.push(url.searchParams.get("query") ?? "");
    const [status, body] = answers.length > 1 ? answers.shift()! : (answers[0] ?? [200, vector([])]);
    json(res, status, body);
  });
});
afterAll(async () => {
  await service.close();
  await prometheus.close();
});
beforeEach(() => {
  serviceHits = 0;
  upAfter = 0;
  answers = [];
  queries.length = 0;
});

function vector(series: Array<[Record<string, string>, string]>) {
  return { status: "success", data: { resultType: "vector", result: series.map(([metric, value]) => ({ metric, value: [1_700_000_000, value] })) } };
}

describe("wait steps", () => {
  it("wait the duration", async () => {
    const started = performance.now();
    const result = await testExecutor().execute({ runbook: makeRunbook([wait(60)]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "succeeded", summary: "waited 60ms", attempts: 1 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });
});

describe("http checks", () => {
  it("hold once the service answers as expected, after a few tries", async () => {
    upAfter = 2;
    const step = check({ kind: "http", request: request(`${service.url}/api/`), bodyContains: "API running" }, 5_000, 20);
    const result = await testExecutor().execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.status).toBe("succeeded");
    expect(result.steps[0]).toMatchObject({ status: "succeeded", attempts: 3 });
    expect(result.steps[0]!.summary).toMatch(/^check http: holds after 3 tries \(\d+ms\)$/);
    expect(result.steps[0]!.output.split("\n")).toEqual([
      expect.stringMatching(/^try 1 at \+\d+ms: HTTP 503, expected 2xx$/),
      expect.stringMatching(/^try 2 at \+\d+ms: HTTP 503, expected 2xx$/),
      expect.stringMatching(/^try 3 at \+\d+ms: HTTP 200 with "API running" in the body$/),
    ]);
  });

  it("look for body_contains, not only the status", async () => {
    upAfter = 1;
    const step = check({ kind: "http", request: request(`${service.url}/status`), bodyContains: '"ready"' }, 5_000, 20);
    const result = await testExecutor().execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(result.steps[0]!.output).toContain('HTTP 200, but the body does not contain "\\"ready\\""');
  });

  it("fail after `within`, with the last observation", async () => {
    upAfter = Number.POSITIVE_INFINITY;
    const started = performance.now();
    const step = check({ kind: "http", request: request(`${service.url}/api/`), bodyContains: undefined }, 150, 30);
    const result = await testExecutor().execute({ runbook: makeRunbook([step, wait(1)]), values: {} });
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    expect(result.status).toBe("failed");
    expect(result.steps[0]!.error).toBe("condition did not hold within 150ms: HTTP 503, expected 2xx");
    expect(result.steps[0]!.attempts).toBeGreaterThanOrEqual(2);
    expect(result.steps[0]!.summary).toBe(`check http: did not hold within 150ms (${result.steps[0]!.attempts} tries)`);
    expect(result.steps[1]!.status).toBe("skipped");
  });

  it("keep to their schedule on the executor's clock: every 30s for 5m is 11 looks, the last at the deadline", async () => {
    let clock = 0;
    const sleeps: number[] = [];
    const executor = testExecutor({
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
    upAfter = Number.POSITIVE_INFINITY;
    const step = check({ kind: "http", request: request(`${service.url}/api/`), bodyContains: undefined }, 300_000, 30_000);
    const result = await executor.execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.steps[0]!.attempts).toBe(11);
    expect(sleeps).toEqual(Array(10).fill(30_000));
    expect(result.steps[0]!.error).toBe("condition did not hold within 5m: HTTP 503, expected 2xx");
    expect(result.steps[0]!.summary).toBe("check http: did not hold within 5m (11 tries)");
  });
});

describe("prometheus checks", () => {
  const nonEmpty = (query: string, within = 5_000) => check({ kind: "prometheus", query, expect: "nonempty" }, within, 20);
  const empty = (query: string, within = 5_000) => check({ kind: "prometheus", query, expect: "empty" }, within, 20);

  it("hold when the result is non-empty, reporting how many series and their first values", async () => {
    answers = [
      [200, vector([])],
      [200, vector([[{ __name__: "up", job: "radarr", instance: "radarr:7878" }, "1"]])],
    ];
    const executor = testExecutor({ prometheusUrl: prometheus.url });
    const result = await executor.execute({ runbook: makeRunbook([nonEmpty('up{job="radarr"} == 1')]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(result.steps[0]!.summary).toMatch(/^check prometheus: holds after 2 tries \(\d+ms\)$/);
    expect(result.steps[0]!.output).toMatch(/try 1 at \+\d+ms: no series\ntry 2 at \+\d+ms: 1 series: up\{job="radarr", instance="radarr:7878"\} 1$/);
    expect(queries).toEqual(['up{job="radarr"} == 1', 'up{job="radarr"} == 1']);
  });

  it("hold when an `empty` query has no series left", async () => {
    const failing = (n: number) => vector(Array.from({ length: n }, (_, i): [Record<string, string>, string] => [{ name: `unit-${i}.service` }, "1"]));
    answers = [
      [200, failing(5)],
      [200, vector([])],
    ];
    const result = await testExecutor({ prometheusUrl: prometheus.url }).execute({ runbook: makeRunbook([empty("node_systemd_unit_state == 1")]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(result.steps[0]!.output).toContain('5 series: {name="unit-0.service"} 1, {name="unit-1.service"} 1, {name="unit-2.service"} 1, …');
  });

  it("treat a scalar as non-empty when it is not zero", async () => {
    answers = [
      [200, { status: "success", data: { resultType: "scalar", result: [1, "0"] } }],
      [200, { status: "success", data: { resultType: "scalar", result: [1, "3"] } }],
    ];
    const result = await testExecutor({ prometheusUrl: prometheus.url }).execute({ runbook: makeRunbook([nonEmpty("scalar(count(up))")]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(result.steps[0]!.output).toMatch(/scalar 0\n.*scalar 3$/);
  });

  it("take Prometheus errors as observations and keep asking", async () => {
    answers = [
      [503, { status: "error", errorType: "unavailable", error: "TSDB not ready" }],
      [422, { status: "error", errorType: "execution", error: "query timed out" }],
      [200, vector([[{ job: "x" }, "1"]])],
    ];
    const result = await testExecutor({ prometheusUrl: prometheus.url }).execute({ runbook: makeRunbook([nonEmpty("up")]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "succeeded", attempts: 3 });
    expect(result.steps[0]!.output).toContain("Prometheus answered HTTP 503 (unavailable): TSDB not ready");
    expect(result.steps[0]!.output).toContain("Prometheus answered HTTP 422 (execution): query timed out");
  });

  it("fail at once when Prometheus says the query is wrong", async () => {
    answers = [[400, { status: "error", errorType: "bad_data", error: 'invalid parameter "query": 1:4: parse error: unexpected "}"' }]];
    const result = await testExecutor({ prometheusUrl: prometheus.url }).execute({ runbook: makeRunbook([nonEmpty("up{}}")]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 1 });
    expect(result.steps[0]!.error).toBe('Prometheus refused the query: Prometheus answered HTTP 400 (bad_data): invalid parameter "query": 1:4: parse error: unexpected "}"');
    expect(queries).toHaveLength(1);
  });

  it("fail after `within` when Prometheus cannot be reached, saying so", async () => {
    const gone = await startServer(() => undefined);
    await gone.close();
    const result = await testExecutor({ prometheusUrl: gone.url }).execute({ runbook: makeRunbook([nonEmpty("up", 100)]), values: {} });
    expect(result.steps[0]!.error).toBe("condition did not hold within 100ms: Prometheus: connection refused");
  });

  it("fail with a clear reason when no Prometheus is configured", async () => {
    const result = await testExecutor().execute({ runbook: makeRunbook([nonEmpty("up")]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 0, error: "no Prometheus to ask: set PROMETHEUS_URL to check this condition" });
  });

  it("escape values for PromQL strings", async () => {
    answers = [[200, vector([[{ job: "x" }, "1"]])]];
    const runbook = makeRunbook([nonEmpty('up{job="{{ job }}"}')], { job: '[^\\n]{1,40}' });
    const result = await testExecutor({ prometheusUrl: prometheus.url }).execute({ runbook, values: { job: 'a"} or vector(1) or {x="\\' } });
    expect(result.status).toBe("succeeded");
    expect(queries).toEqual(['up{job="a\\"} or vector(1) or {x=\\"\\\\"}']);
  });

  it("keep a base URL's path", () => {
    expect(prometheusQueryUrl("http://mon.lan/prometheus/", 'up{job="a b"}')).toBe("http://mon.lan/prometheus/api/v1/query?query=up%7Bjob%3D%22a+b%22%7D");
  });
});
