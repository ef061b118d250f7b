import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/shared.ts";
import { HOOK_TOKEN, startTestService, waitFor, type TestService } from "../helpers/service.ts";

let t: TestService;
beforeAll(async () => {
  // Workers off: these tests are about what the web side accepts and stores.
  t = await startTestService({ env: { HOOK_MAX_BYTES: "65536" }, service: { workers: false } });
});
afterAll(() => t?.stop());

const count = async (table: "deliveries" | "alerts") => (await t.db.sql<{ n: number }[]>`select count(*)::int as n from ${t.db.sql(table)}`)[0]!.n;

async function errorOf(response: Response) {
  return { status: response.status, body: (await response.json()) as { error: string; message: string } };
}

describe("POST /hooks/alertmanager", () => {
  const good = fixture("alertmanager/assembled-firing-kube-pod-crashlooping.json");

  it("answers 401 without the bearer token, and with a wrong one, storing nothing", async () => {
    const none = await errorOf(await fetch(`${t.url}/hooks/alertmanager`, { method: "POST", body: good }));
    expect(none).toEqual({ status: 401, body: { error: "unauthorized", message: "missing Authorization: Bearer <HOOK_TOKEN> header" } });
    const wrong = await errorOf(await t.hook("/hooks/alertmanager", good, { authorization: "Bearer not-the-token-at-all" }));
    expect(wrong).toEqual({ status: 401, body: { error: "unauthorized", message: "wrong bearer token" } });
    const basic = await t.hook("/hooks/alertmanager", good, { authorization: "Basic dXNlcjpwYXNz" });
    expect(basic.status).toBe(401);
    expect(await count("deliveries")).toBe(0);
  });

  it("answers 400 with the reason for malformed JSON and for a body that is not an Alertmanager payload", async () => {
    const broken = await errorOf(await t.hook("/hooks/alertmanager", '{"receiver": "x", "alerts": ['));
    expect(broken.status).toBe(400);
    expect(broken.body.error).toBe("invalid_payload");
    expect(broken.body.message).toMatch(/^body is not valid JSON: /);

    const notAm = await errorOf(await t.hook("/hooks/alertmanager", JSON.stringify({ text: "hello" })));
    expect(notAm).toMatchObject({ status: 400, body: { error: "invalid_payload" } });
    expect(notAm.body.message).toContain("alerts");

    const payload = JSON.parse(good);
    payload.alerts[1].startsAt = "yesterday";
    const badTime = await errorOf(await t.hook("/hooks/alertmanager", JSON.stringify(payload)));
    expect(badTime.status).toBe(400);
    expect(badTime.body.message).toContain('alerts[1].startsAt');
    expect(await count("deliveries")).toBe(0);
    expect(await count("alerts")).toBe(0);
  });

  it("answers 413 over the size limit, with or without Content-Length", async () => {
    const big = JSON.stringify({ ...JSON.parse(good), padding: "x".repeat(70_000) });
    const declared = await errorOf(await t.hook("/hooks/alertmanager", big));
    expect(declared).toEqual({ status: 413, body: { error: "payload_too_large", message: "body is larger than 65536 bytes (HOOK_MAX_BYTES)" } });
    // Chunked: no Content-Length, the limit is enforced while reading.
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(10_000)));
        controller.close();
      },
    });
    const chunked = await fetch(`${t.url}/hooks/alertmanager`, {
      method: "POST",
      headers: { authorization: `Bearer ${HOOK_TOKEN}` },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await count("deliveries")).toBe(0);
  });

  it("answers 200 only once stored; bad input after that loses nothing already accepted", async () => {
    const ok = await t.hook("/hooks/alertmanager", good);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: "stored", alerts: 2, changed: true, newAlerts: 2 });
    expect(await count("deliveries")).toBe(1);
    expect(await count("alerts")).toBe(2);
    await t.hook("/hooks/alertmanager", "{");
    expect(await count("alerts")).toBe(2);
    const [row] = await t.db.sql<{ body: string; user_agent: string | null }[]>`select body, user_agent from deliveries`;
    expect(row!.body).toBe(good);
  });

  it("answers 404 naming the sources it knows", async () => {
    const unknown = await errorOf(await t.hook("/hooks/nagios", "{}"));
    expect(unknown).toEqual({ status: 404, body: { error: "not_found", message: 'unknown source "nagios"; this service accepts: alertmanager' } });
  });
});

describe("health and metrics", () => {
  it("/healthz and /readyz", async () => {
    expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { postgres: "ok", redis: "ok" } });
  });

  it("/metrics counts deliveries by outcome, signals, and shows queue depth", async () => {
    const text = await waitFor(async () => {
      const body = await (await fetch(`${t.url}/metrics`)).text();
      return body.includes("topicops_queue_depth") ? body : undefined;
    });
    expect(text).toMatch(/topicops_deliveries_total\{source="alertmanager",outcome="unauthorized"\} 3/);
    expect(text).toMatch(/topicops_deliveries_total\{source="alertmanager",outcome="invalid"\} 4/);
    expect(text).toMatch(/topicops_deliveries_total\{source="alertmanager",outcome="too_large"\} 2/);
    expect(text).toMatch(/topicops_deliveries_total\{source="alertmanager",outcome="accepted"\} 1/);
    expect(text).toMatch(/topicops_signals_total\{source="alertmanager",status="firing"\} 2/);
    expect(text).toMatch(/topicops_queue_depth\{queue="signals",state="waiting"\} 1/);
    expect(text).not.toContain(HOOK_TOKEN);
  });
});

describe("readiness when a dependency is down", () => {
  it("/readyz says which one", async () => {
    const { createApp } = await import("../../src/server/app.ts");
    const { createMetrics } = await import("../../src/metrics.ts");
    const { createLogger } = await import("../../src/logger.ts");
    const app = createApp({
      logger: createLogger({ level: "silent" }),
      metrics: createMetrics({ defaultMetrics: false }),
      hooks: { hookToken: HOOK_TOKEN, maxBytes: 1000, ingest: {} as never },
      readiness: { postgres: async () => 1, redis: async () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6390")) },
    });
    const res = await app.request("/readyz");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: "not ready", checks: { postgres: "ok", redis: "connect ECONNREFUSED 127.0.0.1:6390" } });
  });
});

describe("a worker process", () => {
  it("serves health and metrics but no hooks", async () => {
    const worker = await startTestService({ service: { web: false, workers: true } });
    try {
      expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
      // The worker creates the topics, and its own /metrics counts those calls.
      await waitFor(async () => (await (await fetch(`${worker.url}/metrics`)).text()).includes('topicops_telegram_calls_total{method="createForumTopic",result="ok"} 8'));
      const hook = await worker.hook("/hooks/alertmanager", "{}");
      expect(hook.status).toBe(404);
    } finally {
      await worker.stop();
    }
  });
});
