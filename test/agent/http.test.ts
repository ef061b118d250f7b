import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, http, makeRunbook, request, testExecutor, type TestServer } from "./support.ts";

const API_KEY = "k3y-with/slash+plus=and\"quote";

let server: TestServer;
let other: TestServer;

beforeAll(async () => {
  other = await startServer((_req, res) => res.end("the other host"));
  server = await startServer((req, res) => {
    const url = new URL(req.url, "http://x");
    switch (url.pathname) {
      case "/restart":
        res.writeHead(202, { "content-type": "application/json" });
        res.end(JSON.stringify({ name: "restart", queued: true }));
        return;
      case "/broken":
        res.writeHead(500);
        res.end("internal error: database is locked");
        return;
      case "/echo-headers":
        // A server that echoes what it was sent, as debugging endpoints and some error pages do.
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ headers: req.headers, body: req.body }));
        return;
      case "/big":
        res.end(`HEAD-${"y".repeat(100_000)}-TAIL`);
        return;
      case "/slow":
        setTimeout(() => res.end("late"), 5_000).unref();
        return;
      case "/away":
        res.writeHead(302, { location: `http://localhost:${other.port}/landing?token=abc` });
        res.end();
        return;
      default:
        res.writeHead(404);
        res.end("not found");
    }
  });
});
afterAll(async () => {
  await server.close();
  await other.close();
});

describe("http steps", () => {
  it("send the request and succeed on an expected status, keeping the body", async () => {
    const executor = testExecutor({}, { API_KEY });
    const step = http(request(`${server.url}/restart`, { method: "POST", headers: { "X-Api-Key": "{{ secret.API_KEY }}" }, expectStatus: [200, 202] }));
    const result = await executor.execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.status).toBe("succeeded");
    expect(result.steps[0]).toMatchObject({ status: "succeeded", attempts: 1, output: '{"name":"restart","queued":true}' });
    expect(result.steps[0]!.summary).toMatch(new RegExp(`^POST ${server.url}/restart → 202 in \\d+ms$`));
    const seen = server.requests.find((r) => r.url === "/restart")!;
    expect(seen.method).toBe("POST");
    expect(seen.headers["x-api-key"]).toBe(API_KEY);
  });

  it("fail on an unexpected status, with the body for the reader", async () => {
    const result = await testExecutor().execute({ runbook: makeRunbook([http(request(`${server.url}/broken`))]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", error: "HTTP 500, expected 2xx", output: "internal error: database is locked" });
    expect(result.steps[0]!.summary).toMatch(/→ 500 in \d+ms, expected 2xx$/);
  });

  it("send secrets to the server but never return them, not even when the server echoes them", async () => {
    const executor = testExecutor({}, { API_KEY });
    const step = http(
      request(`${server.url}/echo-headers?item={{ item }}`, {
        method: "POST",
        headers: { Authorization: "Bearer {{ secret.API_KEY }}" },
        body: { token: "{{ secret.API_KEY }}", item: "{{ item }}" },
      }),
    );
    const result = await executor.execute({ runbook: makeRunbook([step], { item: undefined }), values: { item: "nas-1" } });
    expect(result.status).toBe("succeeded");
    const seen = server.requests.findLast((r) => r.url.startsWith("/echo-headers"))!;
    expect(seen.url).toBe("/echo-headers?item=nas-1");
    expect(seen.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(seen.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(seen.body)).toEqual({ token: API_KEY, item: "nas-1" });

    // The echoed body is JSON inside JSON: the key shows up escaped twice, and is hidden all the same.
    const output = result.steps[0]!.output;
    expect(output).toContain('"authorization":"Bearer [redacted]"');
    expect(output).toContain('\\"token\\":\\"[redacted]\\"');
    expect(output).not.toContain("k3y");
    expect(JSON.stringify(result)).not.toContain("k3y");
  });

  it("refuse to start when a secret is not set, naming its environment variable", async () => {
    const step = http(request(`${server.url}/restart`, { method: "POST", headers: { "X-Api-Key": "{{ secret.RADARR_API_KEY }}" } }));
    const before = server.requests.length;
    const result = await testExecutor().execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.status).toBe("failed");
    expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 0 });
    expect(result.steps[0]!.error).toBe("header X-Api-Key: secret RADARR_API_KEY is not set: set the environment variable TOPICOPS_SECRET_RADARR_API_KEY");
    expect(server.requests.length).toBe(before);
  });

  it("trim a large body to its head and tail", async () => {
    const result = await testExecutor({ maxOutputBytes: 200 }).execute({ runbook: makeRunbook([http(request(`${server.url}/big`))]), values: {} });
    const output = result.steps[0]!.output;
    expect(output).toMatch(/^HEAD-y+\n… \d+ bytes omitted …\ny+-TAIL$/);
    expect(output.length).toBeLessThan(260);
  });

  it("give up on a server that does not answer in time", async () => {
    const step = http(request(`${server.url}/slow`), { timeoutMs: 200 });
    const result = await testExecutor().execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", error: "no answer within 200ms" });
    expect(result.steps[0]!.summary).toBe(`GET ${server.url}/slow — no answer within 200ms`);
    expect(result.durationMs).toBeLessThan(2_000);
  });

  it("report a refused connection", async () => {
    const closed = await startServer(() => undefined);
    await closed.close();
    const result = await testExecutor().execute({ runbook: makeRunbook([http(request(`${closed.url}/`))]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", error: "connection refused" });
  });

  it("do not follow a redirect to another host, and do not show its query", async () => {
    const executor = testExecutor({}, { API_KEY });
    const step = http(request(`${server.url}/away`, { headers: { "X-Api-Key": "{{ secret.API_KEY }}" } }));
    const result = await executor.execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", error: `HTTP 302 (a redirect to http://localhost:${other.port}/landing, not followed), expected 2xx` });
    expect(other.requests).toEqual([]);
  });

  it("accept a redirect the runbook expects, as the answer itself", async () => {
    const step = http(request(`${server.url}/away`, { expectStatus: [302] }));
    const result = await testExecutor().execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.steps[0]!.status).toBe("succeeded");
    expect(other.requests).toEqual([]);
  });

  it("refuse a value that would change the URL's host or path", async () => {
    const step = http(request("http://{{ host }}:9090/-/reload", { method: "POST" }));
    const loose = makeRunbook([step], { host: "[\\s\\S]*" });
    const result = await testExecutor().execute({ runbook: loose, values: { host: "evil.example/x?" } });
    expect(result.steps[0]!.error).toBe('url: param "host" is used as the host, but "evil.example/x?" is not a host name');
  });
});
