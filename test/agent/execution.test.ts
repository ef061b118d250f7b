import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StepResult } from "../../src/agent/executor.ts";
import { createLogger } from "../../src/logger.ts";
import { check, http, json, makeRunbook, nodeScript, request, run, startServer, testExecutor, wait, type TestServer } from "./support.ts";

const scratch = mkdtempSync(path.join(tmpdir(), "topicops-exec-"));
let server: TestServer;
let flaky = 0;

beforeAll(async () => {
  server = await startServer((req, res) => {
    if (req.url === "/flaky") {
      flaky++;
      return flaky <= 1 ? json(res, 503, { error: "busy" }) : json(res, 200, { ok: true });
    }
    if (req.url === "/hang") return; // never answers
    if (req.url === "/busy") return json(res, 503, { error: "busy" });
    json(res, 200, { ok: true });
  });
});
afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Fails until it has been started `succeedOn` times, counting in a file. */
function flakyCommand(name: string, succeedOn: number) {
  const counter = path.join(scratch, name);
  const script = `const fs = require('fs'); const f = ${JSON.stringify(counter)}; const n = (fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8')) : 0) + 1; fs.writeFileSync(f, String(n)); console.log('attempt ' + n); process.exit(n >= ${succeedOn} ? 0 : 1);`;
  return script;
}

describe("retries", () => {
  it("try a run step again after its delay, and count the tries", async () => {
    const step = nodeScript(flakyCommand("three", 3), [], { retries: { attempts: 3, delayMs: 10 } });
    const result = await testExecutor().execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.status).toBe("succeeded");
    expect(result.steps[0]).toMatchObject({ status: "succeeded", attempts: 3 });
    expect(result.steps[0]!.summary).toMatch(/ — exit 0 in \d+ms \(3 tries\)$/);
    expect(result.steps[0]!.output).toMatch(/^\[try 1: exit 1 in \d+ms; trying again in 10ms\]\n\[try 2: exit 1 in \d+ms; trying again in 10ms\]\nattempt 3$/);
  });

  it("give up after the last retry", async () => {
    const step = nodeScript(flakyCommand("never", 100), [], { retries: { attempts: 2, delayMs: 1 } });
    const result = await testExecutor().execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 3, error: "exit code 1" });
    expect(result.steps[0]!.output.endsWith("attempt 3")).toBe(true);
  });

  it("try an http step again", async () => {
    flaky = 0;
    const step = http(request(`${server.url}/flaky`), { retries: { attempts: 1, delayMs: 1 } });
    const result = await testExecutor().execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(result.steps[0]!.summary).toMatch(/→ 200 in \d+ms \(2 tries\)$/);
    expect(result.steps[0]!.output).toBe('[try 1: HTTP 503, expected 2xx; trying again in 1ms]\n{"ok":true}');
  });

  it("a run step cancelled while it waits to try again says so, with the tries made", async () => {
    const controller = new AbortController();
    const sleep = async () => controller.abort();
    const step = nodeScript("process.exit(1)", [], { retries: { attempts: 3, delayMs: 2000 } });
    const result = await testExecutor({ sleep }).execute({ runbook: makeRunbook([step]), values: {}, signal: controller.signal });
    expect(result).toMatchObject({ status: "cancelled", error: expect.stringMatching(/^cancelled during step 1 /) });
    expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 1, error: "cancelled" });
    expect(result.steps[0]!.summary).toMatch(/ — cancelled \(1 try\)$/);
    expect(result.steps[0]!.output).toMatch(/^\[try 1: exit 1 in \d+ms; trying again in 2s\]$/);
  });

  it("an http step cancelled while it waits to try again says so, with the tries made", async () => {
    const controller = new AbortController();
    let slept = 0;
    const sleep = async () => {
      if (++slept === 2) controller.abort();
    };
    const step = http(request(`${server.url}/busy`), { retries: { attempts: 5, delayMs: 1500 } });
    const result = await testExecutor({ sleep }).execute({ runbook: makeRunbook([step]), values: {}, signal: controller.signal });
    expect(result.status).toBe("cancelled");
    expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 2, error: "cancelled", summary: `GET ${server.url}/busy — cancelled (2 tries)` });
    expect(result.steps[0]!.output).toBe("[try 1: HTTP 503, expected 2xx; trying again in 1.5s]\n[try 2: HTTP 503, expected 2xx; trying again in 1.5s]");
  });

  it("a run step that fails on every try reads the same as one try, with the count", async () => {
    const step = nodeScript("process.exit(3)", [], { retries: { attempts: 1, delayMs: 1 } });
    const result = await testExecutor().execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 2, error: "exit code 3" });
    expect(result.steps[0]!.summary).toMatch(/ — exit 3 in \d+ms \(2 tries\)$/);
    expect(result.steps[0]!.output).toMatch(/^\[try 1: exit 3 in \d+ms; trying again in 1ms\]$/);
  });

  it("an http step that fails on every try keeps its last answer in the summary", async () => {
    const step = http(request(`${server.url}/busy`), { retries: { attempts: 1, delayMs: 1 } });
    const result = await testExecutor().execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 2, error: "HTTP 503, expected 2xx" });
    expect(result.steps[0]!.summary).toMatch(new RegExp(`^GET ${server.url}/busy → 503 in \\d+ms, expected 2xx \\(2 tries\\)$`));
    expect(result.steps[0]!.output).toBe('[try 1: HTTP 503, expected 2xx; trying again in 1ms]\n{"error":"busy"}');
  });

  it("do not retry a step that was refused", async () => {
    const step = run(["sh", "-c", "true"], { retries: { attempts: 5, delayMs: 1 } });
    const result = await testExecutor().execute({ runbook: makeRunbook([step]), values: {} });
    expect(result.steps[0]).toMatchObject({ status: "failed", attempts: 0 });
  });
});

describe("the order of steps", () => {
  it("stops at the first failure and skips the rest", async () => {
    const steps = [run(["/bin/echo", "one"]), nodeScript("process.exit(2)"), run(["/bin/echo", "three"]), wait(1)];
    const result = await testExecutor().execute({ runbook: makeRunbook(steps), values: {} });
    expect(result.status).toBe("failed");
    expect(result.failedStep).toBe(1);
    expect(result.steps.map((s) => s.status)).toEqual(["succeeded", "failed", "skipped", "skipped"]);
    expect(result.steps.map((s) => s.index)).toEqual([0, 1, 2, 3]);
    expect(result.steps[2]).toMatchObject({ type: "run", attempts: 0, summary: "run /bin/echo: skipped", output: "" });
    expect(result.steps[3]).toMatchObject({ type: "wait", summary: "wait 1ms: skipped" });
  });

  it("calls the hooks in order, for the steps that ran, and awaits them", async () => {
    const events: string[] = [];
    const hooks = {
      onStepStart: async (index: number) => {
        await new Promise((r) => setTimeout(r, 5));
        events.push(`start ${index}`);
      },
      onStepEnd: (result: StepResult) => void events.push(`end ${result.index} ${result.status}`),
    };
    const steps = [run(["/bin/echo", "a"]), wait(1), nodeScript("process.exit(1)"), run(["/bin/echo", "never"])];
    await testExecutor().execute({ runbook: makeRunbook(steps), values: {} }, hooks);
    expect(events).toEqual(["start 0", "end 0 succeeded", "start 1", "end 1 succeeded", "start 2", "end 2 failed"]);
  });

  it("goes on when a progress hook throws, and logs it", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "warn", destination: { write: (line: string) => void lines.push(line) } });
    const executor = testExecutor({ logger });
    const result = await executor.execute(
      { runbook: makeRunbook([run(["/bin/echo", "a"]), run(["/bin/echo", "b"])]), values: {} },
      {
        onStepStart: () => {
          throw new Error("telegram is down");
        },
      },
    );
    expect(result.status).toBe("succeeded");
    const logged = lines.map((line) => JSON.parse(line) as { msg: string; step: number; err: { message: string } });
    expect(logged.map((l) => [l.msg, l.step, l.err.message])).toEqual([
      ["execution onStepStart hook failed", 0, "telegram is down"],
      ["execution onStepStart hook failed", 1, "telegram is down"],
    ]);
  });

  it("refuses to run a page", async () => {
    const page = { ...makeRunbook([]), kind: "page" as const };
    const result = await testExecutor().execute({ runbook: page, values: {} });
    expect(result).toMatchObject({ status: "failed", error: "refused before anything ran: test-runbook is a page to read, not a runbook with steps: nothing to run" });
  });
});

describe("cancellation", () => {
  /** Aborts once step `index` has been running for a moment. */
  function abortDuring(index: number, afterMs = 100) {
    const controller = new AbortController();
    return {
      signal: controller.signal,
      hooks: { onStepStart: (i: number) => void (i === index && setTimeout(() => controller.abort(), afterMs)) },
    };
  }

  it("kills the running child and skips the rest", async () => {
    // Aborts once the child has written its line (a fixed delay races a slow start under load).
    const marker = path.join(scratch, "sleeping");
    const controller = new AbortController();
    const signal = controller.signal;
    const abortWhenWritten = () => (existsSync(marker) ? controller.abort() : void setTimeout(abortWhenWritten, 10));
    const hooks = { onStepStart: (i: number) => void (i === 1 && abortWhenWritten()) };
    const started = performance.now();
    const script = "process.stdout.write('sleeping\\n', () => require('fs').writeFileSync(process.argv[1], '')); setTimeout(() => {}, 60000)";
    const steps = [run(["/bin/echo", "first"]), nodeScript(script, [marker]), run(["/bin/echo", "never"])];
    const result = await testExecutor().execute({ runbook: makeRunbook(steps), values: {}, signal }, hooks);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ status: "cancelled", failedStep: 1 });
    expect(result.error).toBe(`cancelled during step 2 (run ${process.execPath})`);
    expect(result.steps.map((s) => s.status)).toEqual(["succeeded", "failed", "skipped"]);
    expect(result.steps[1]).toMatchObject({ error: "cancelled", output: "sleeping" });
  });

  it("stops a wait", async () => {
    const { signal, hooks } = abortDuring(0, 50);
    const result = await testExecutor().execute({ runbook: makeRunbook([wait(60_000)]), values: {}, signal }, hooks);
    expect(result.status).toBe("cancelled");
    expect(result.steps[0]!.summary).toMatch(/^wait cancelled after \d+ms of 1m$/);
  });

  it("aborts a request in flight", async () => {
    const { signal, hooks } = abortDuring(0, 50);
    const result = await testExecutor().execute({ runbook: makeRunbook([http(request(`${server.url}/hang`), { timeoutMs: 60_000 })]), values: {}, signal }, hooks);
    expect(result.status).toBe("cancelled");
    expect(result.steps[0]).toMatchObject({ status: "failed", error: "cancelled" });
  });

  it("stops a check between its tries", async () => {
    const { signal, hooks } = abortDuring(0, 50);
    const step = check({ kind: "http", request: request(`${server.url}/ok`), bodyContains: "never there" }, 60_000, 10_000);
    const result = await testExecutor().execute({ runbook: makeRunbook([step]), values: {}, signal }, hooks);
    expect(result.status).toBe("cancelled");
    expect(result.steps[0]!.summary).toMatch(/^check http: cancelled after 1 try/);
  });

  it("runs nothing when cancelled before the start", async () => {
    const controller = new AbortController();
    controller.abort();
    const starts: number[] = [];
    const result = await testExecutor().execute({ runbook: makeRunbook([run(["/bin/echo", "x"])]), values: {}, signal: controller.signal }, { onStepStart: (i) => void starts.push(i) });
    expect(result.status).toBe("cancelled");
    expect(result.steps[0]!.status).toBe("skipped");
    expect(starts).toEqual([]);
  });
});

describe("preflight", () => {
  it("tells what this host cannot do before anyone approves", () => {
    const runbook = makeRunbook([
      run(["kubectl", "get", "pods"]),
      http(request("http://radarr:7878/api/v3/system/restart", { method: "POST", headers: { "X-Api-Key": "{{ secret.RADARR_API_KEY }}" } })),
      wait(10),
    ]);
    const plan = testExecutor().preflight(runbook, {});
    expect(plan.problems).toEqual([
      expect.stringMatching(/^step 1 \(run kubectl\): "kubectl" is not on the executable allowlist/),
      "step 2 (POST request): header X-Api-Key: secret RADARR_API_KEY is not set: set the environment variable TOPICOPS_SECRET_RADARR_API_KEY",
    ]);
    expect(plan.steps[2]!.problem).toBeUndefined();
  });
});
