import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createExecutor, type ExecutorDeps } from "../../src/agent/executor.ts";
import { anchorPattern, DEFAULT_PARAM_PATTERN } from "../../src/runbooks/template.ts";
import type { CheckStep, HttpRequestSpec, HttpStep, Runbook, RunbookStep, RunStep, WaitStep } from "../../src/runbooks/types.ts";

/** Runbooks built in code for executor tests, in the shape the loader produces. */

export const node = process.execPath;

export function makeRunbook(steps: RunbookStep[], params: Record<string, string | undefined> = {}): Runbook {
  return {
    id: "test-runbook",
    title: "Test runbook",
    file: "test-runbook.md",
    kind: "runbook",
    match: undefined,
    risk: "low",
    params: Object.entries(params).map(([name, pattern]) => ({ name, default: undefined, pattern: anchorPattern(pattern ?? DEFAULT_PARAM_PATTERN), description: undefined })),
    steps,
    startingLevel: "manual",
    aliases: [],
    body: "# Test runbook\n",
    contentHash: "0".repeat(64),
  };
}

export function run(argv: string[], options: Partial<Omit<RunStep, "type" | "argv">> = {}): RunStep {
  return { type: "run", name: undefined, argv, timeoutMs: 10_000, retries: { attempts: 0, delayMs: 0 }, ...options };
}

/** `node -e <script> -- …args`: the `--` keeps node from reading an argument as its own option. */
export function nodeScript(script: string, args: string[] = [], options: Partial<Omit<RunStep, "type" | "argv">> = {}): RunStep {
  return run([node, "-e", script, "--", ...args], options);
}

export function request(url: string, options: Partial<HttpRequestSpec> = {}): HttpRequestSpec {
  return { method: "GET", url, headers: {}, body: undefined, expectStatus: range(200, 299), ...options };
}

export function http(req: HttpRequestSpec, options: Partial<Omit<HttpStep, "type" | "request">> = {}): HttpStep {
  return { type: "http", name: undefined, request: req, timeoutMs: 5_000, retries: { attempts: 0, delayMs: 0 }, ...options };
}

export function wait(durationMs: number): WaitStep {
  return { type: "wait", name: undefined, durationMs };
}

export function check(condition: CheckStep["condition"], withinMs: number, everyMs: number): CheckStep {
  return { type: "check", name: undefined, withinMs, everyMs, condition };
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** An executor with node (and /bin/echo) allowed, secrets from a map, and tiny grace periods. */
export function testExecutor(overrides: Partial<ExecutorDeps> = {}, secrets: Record<string, string> = {}) {
  return createExecutor({
    allowlist: [node, "/bin/echo", "echo"],
    secrets: (name) => secrets[name],
    killGraceMs: 200,
    ...overrides,
  });
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface TestServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records what it received and answers with `handler`. */
export async function startServer(handler: (req: RecordedRequest, res: ServerResponse) => unknown): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const recorded = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(recorded);
      void Promise.resolve(handler(recorded, res)).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
