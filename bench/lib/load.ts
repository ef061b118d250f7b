import autocannon, { type AutocannonResult } from "autocannon";
import { interrupted } from "./scope.ts";
import { round1, summarize, type LatencySummary } from "./stats.ts";

export interface HttpLoadOptions {
  url: string;
  path: string;
  connections: number;
  seconds: number;
  headers: Record<string, string>;
  /** The body of the i-th request of this pass (i counts from 0 across all connections). */
  body: (i: number) => string;
}

export interface LoadPass {
  /** Completed requests per second over the pass. */
  rps: number;
  completed: number;
  /** Bodies built, including requests still in flight when the pass ended. */
  sent: number;
  seconds: number;
  latencyMs: LatencySummary;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** Indices (as passed to `body`) of the requests answered with 2xx, in answer order. */
  acknowledged: number[];
  /** CPU the bench process (the load generator) used, in % of one core: near 100 means it may be the limit. */
  loadGeneratorCpuPercent: number;
}

/**
 * A fixed-duration, fixed-concurrency HTTP load with autocannon, a new body for every request.
 * Latencies are taken from autocannon's per-response event (sub-millisecond, every status) rather
 * than its integer histogram, so they are computed the same way as the no-HTTP baseline's.
 */
export async function runHttpLoad(options: HttpLoadOptions): Promise<LoadPass> {
  let next = 0;
  const latencies: number[] = [];
  const acknowledged: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        timeout: 30,
        requests: [
          {
            method: "POST",
            path: options.path,
            headers: { "content-type": "application/json", ...options.headers },
            // With one request in flight per connection, the connection's context names the
            // request its next answer belongs to.
            setupRequest: (request, context) => {
              context.index = next;
              return { ...request, body: options.body(next++) };
            },
            onResponse: (status, _body, context) => {
              if (status >= 200 && status < 300) acknowledged.push(context.index as number);
            },
          },
        ],
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
    interrupted.addEventListener("abort", () => instance.stop(), { once: true });
    instance.on("response", (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
    });
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = Number(count);
  const completed = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    rps: round1(completed / result.duration),
    completed,
    sent: next,
    seconds: result.duration,
    latencyMs: summarize(latencies),
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes,
    acknowledged,
    loadGeneratorCpuPercent: round1(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
  };
}

export interface WorkerLoadOptions {
  workers: number;
  seconds: number;
  /** One unit of work (the i-th across all workers). */
  task: (i: number) => Promise<void>;
}

export interface WorkerPass {
  /** Completed units per second. */
  rate: number;
  completed: number;
  /** Units started, including failed ones. */
  sent: number;
  failed: number;
  firstError?: string;
  seconds: number;
  latencyMs: LatencySummary;
}

/** `workers` loops doing `task` back to back for `seconds`: the same closed-loop shape as autocannon's connections. */
export async function runWorkerLoad(options: WorkerLoadOptions): Promise<WorkerPass> {
  const deadline = performance.now() + options.seconds * 1000;
  return closedLoop(options.workers, () => performance.now() < deadline, options.task);
}

export interface CountedLoadOptions {
  workers: number;
  /** Units of work in all; each is done once. */
  count: number;
  /** One unit of work (the i-th of `count`, in the order workers take them). */
  task: (i: number) => Promise<void>;
}

/**
 * `workers` loops taking the next unit until all `count` are done: a fixed amount of work (every
 * card approved once) as fast as it goes, the same closed-loop shape as `runWorkerLoad`.
 */
export async function runCountedLoad(options: CountedLoadOptions): Promise<WorkerPass> {
  return closedLoop(Math.min(options.workers, options.count), (next) => next < options.count, options.task);
}

/** `workers` loops, each taking the next unit while `more(next)` holds, timing every one that succeeds. */
async function closedLoop(workers: number, more: (next: number) => boolean, task: (i: number) => Promise<void>): Promise<WorkerPass> {
  let next = 0;
  let failed = 0;
  let firstError: string | undefined;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (more(next) && !interrupted.aborted) {
        const i = next++;
        const t0 = performance.now();
        try {
          await task(i);
          latencies.push(performance.now() - t0);
        } catch (error) {
          failed++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    rate: round1(latencies.length / seconds),
    completed: latencies.length,
    sent: next,
    failed,
    ...(firstError ? { firstError } : {}),
    seconds: Math.round(seconds * 100) / 100,
    latencyMs: summarize(latencies),
  };
}
