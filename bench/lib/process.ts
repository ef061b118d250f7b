import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import type { Scope } from "./scope.ts";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** A port nobody listens on right now (the OS picks it); the child is told to listen there. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface MemoryStatus {
  /** VmHWM: the peak resident set size, what the process needed at its busiest. */
  peakRssKb: number;
  /** VmRSS: resident now. */
  rssKb: number;
}

/** Reads /proc/<pid>/status (Linux); undefined once the process is gone or off Linux. */
export function memoryStatus(pid: number): MemoryStatus | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { peakRssKb: kb("VmHWM"), rssKb: kb("VmRSS") };
  } catch {
    return undefined;
  }
}

/** Clock ticks per second of /proc's CPU times; 100 on every Linux this runs on in practice. */
const CLOCK_TICKS = 100;

function processTicks(pid: number): number | undefined {
  try {
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** CPU ticks of the process's children that have exited and been waited for (cutime + cstime): the commands it ran. */
function childTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[13]) + Number(fields[14]);
  } catch {
    return undefined;
  }
}

/** CPU ticks of every process whose command name is one of `names` (`postgres`, `redis-server`), alive now. */
function ticksByCommand(names: readonly string[]): Map<string, number> {
  const out = new Map<string, number>(names.map((n) => [n, 0]));
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (!out.has(comm)) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(comm, out.get(comm)! + Number(fields[11]) + Number(fields[12]));
    } catch {
      // Gone between listing and reading: its ticks are lost, which the caller's note allows for.
    }
  }
  return out;
}

/**
 * CPU use of the servers a benchmark shares the machine with, by command name, in % of one core.
 * Processes that exit during the measurement take their ticks with them (Postgres backends of
 * closed connections), so this is a lower bound; good enough to see who competes for the CPU.
 */
export function commandCpuMeter(names: readonly string[]): () => Record<string, number | null> {
  const started = performance.now();
  const before = ticksByCommand(names);
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const after = ticksByCommand(names);
    return Object.fromEntries(
      names.map((n) => [n, before.size > 0 ? Math.round((((after.get(n) ?? 0) - (before.get(n) ?? 0)) / CLOCK_TICKS / seconds) * 1000) / 10 : null]),
    );
  };
}

function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const stat = readFileSync("/proc/stat", "utf8");
    const [, ...values] = stat.split("\n")[0]!.trim().split(/\s+/);
    const n = values.map(Number);
    const total = n.reduce((a, b) => a + b, 0);
    const idle = (n[3] ?? 0) + (n[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export interface CpuUse {
  /** CPU the process used, in % of one core (200 = two cores busy). */
  processPercent: number | null;
  /** How busy the whole machine was, in % of all its cores: near 100 means everything competed for CPU. */
  machineBusyPercent: number | null;
  /** CPU of the commands the process ran and that ended meanwhile (runbook steps), in % of one core. */
  childrenPercent: number | null;
}

/** Starts measuring CPU use of `pid` and of the machine; the returned function stops and reports. */
export function cpuMeter(pid: number): () => CpuUse {
  const started = performance.now();
  const p0 = processTicks(pid);
  const c0 = childTicks(pid);
  const m0 = machineTicks();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const p1 = processTicks(pid);
    const c1 = childTicks(pid);
    const m1 = machineTicks();
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      processPercent: p0 !== undefined && p1 !== undefined ? round(((p1 - p0) / CLOCK_TICKS / seconds) * 100) : null,
      machineBusyPercent: m0 && m1 && m1.total > m0.total ? round(((m1.busy - m0.busy) / (m1.total - m0.total)) * 100) : null,
      childrenPercent: c0 !== undefined && c1 !== undefined ? round(((c1 - c0) / CLOCK_TICKS / seconds) * 100) : null,
    };
  };
}

export interface LogSummary {
  warn: number;
  error: number;
  fatal: number;
  /** The first few warn+ messages, with how often each occurred: evidence for the report. */
  messages: { level: string; msg: string; count: number }[];
}

/** One report line: how much the service complained while it was measured. */
export function logSummaryLine(logs: LogSummary): string {
  const first = logs.messages[0];
  return `service log: ${logs.warn} warnings, ${logs.error} errors${first ? ` (first: ${first.msg})` : ""}`;
}

export interface Child {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<number | string>;
  memory(): MemoryStatus | undefined;
  logs(): LogSummary;
  /** The last lines the process wrote, for an error message when it fails. */
  tail(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Returns the memory read just before. */
  stop(graceMs?: number): Promise<MemoryStatus | undefined>;
}

export interface StartChildOptions {
  name: string;
  /** Arguments to `node`, e.g. [<abs path>/bin/topicops.js, "web"]. */
  args: string[];
  /** Working directory; the repository root unless given. */
  cwd?: string;
  env: Record<string, string>;
  port: number;
  scope: Scope;
  /** Polled until it answers 200. */
  readyPath?: string;
  readyTimeoutMs?: number;
}

/**
 * Runs `node <args>` with exactly `env` (plus PATH/HOME), so a developer's own settings
 * (TELEGRAM_RATE_PER_MINUTE, …) cannot change what is measured. Waits for `readyPath`.
 */
export async function startChild(options: StartChildOptions): Promise<Child> {
  const env: Record<string, string> = { ...options.env };
  for (const key of ["PATH", "HOME", "TMPDIR", "LANG"]) if (process.env[key] !== undefined) env[key] ??= process.env[key]!;
  const proc = spawn(process.execPath, options.args, { cwd: options.cwd ?? repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const counts = { warn: 0, error: 0, fatal: 0 };
  const messages = new Map<string, { level: string; msg: string; count: number }>();
  const take = (chunk: Buffer, stream: string) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      lines.push(`[${stream}] ${line}`);
      if (lines.length > 200) lines.shift();
      let level = stream === "stderr" ? "error" : "";
      let msg = line.slice(0, 300);
      try {
        const parsed = JSON.parse(line) as { level?: string; msg?: string };
        level = parsed.level ?? level;
        msg = parsed.msg ?? msg;
      } catch {
        // Not pino's JSON (a crash trace): counted as written.
      }
      if (level === "warn" || level === "error" || level === "fatal") {
        counts[level]++;
        const key = `${level}\u0000${msg}`;
        const seen = messages.get(key);
        if (seen) seen.count++;
        else if (messages.size < 20) messages.set(key, { level, msg, count: 1 });
      }
    }
  };
  proc.stdout.on("data", (chunk: Buffer) => take(chunk, "stdout"));
  proc.stderr.on("data", (chunk: Buffer) => take(chunk, "stderr"));
  const exited = new Promise<number | string>((resolve) => {
    proc.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    proc.once("error", (error) => resolve(`spawn error: ${error.message}`));
  });
  let running = true;
  void exited.then(() => {
    running = false;
  });

  const child: Child = {
    name: options.name,
    pid: proc.pid ?? -1,
    port: options.port,
    url: `http://127.0.0.1:${options.port}`,
    exited,
    memory: () => (running && proc.pid ? memoryStatus(proc.pid) : undefined),
    logs: () => ({ ...counts, messages: [...messages.values()] }),
    tail: () => lines.slice(-30).join("\n"),
    async stop(graceMs = 15_000) {
      const memory = child.memory();
      if (!running) return memory;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (running) proc.kill("SIGKILL");
      }, graceMs);
      await exited;
      clearTimeout(timer);
      return memory;
    },
  };
  options.scope.defer(`stop ${options.name} (pid ${child.pid})`, () => child.stop());

  if (options.readyPath) await waitForReady(child, options.readyPath, options.readyTimeoutMs ?? 60_000);
  return child;
}

/** Polls GET <path> until 200; fails early, with the child's last output, if it exits first. */
export async function waitForReady(child: Child, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: number | string | undefined;
  void child.exited.then((code) => {
    exitedWith = code;
  });
  let last = "";
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) throw new Error(`${child.name} exited (${exitedWith}) before it was ready:\n${child.tail()}`);
    try {
      const response = await fetch(`${child.url}${path}`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${child.name} was not ready within ${timeoutMs} ms (last answer: ${last}):\n${child.tail()}`);
}
