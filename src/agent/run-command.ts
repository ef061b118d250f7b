import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { AppError } from "../errors.ts";
import type { OutputCapture } from "./output.ts";

/**
 * Starting a runbook's `run` step: which executables may start (the allowlist), what environment
 * they see, and running one to completion or to its deadline without a shell.
 */

// ---------------------------------------------------------------------------------------------
// Environment

/**
 * What a child process inherits from the service's environment; everything else is left out, so the
 * service's own credentials (TELEGRAM_BOT_TOKEN, HOOK_TOKEN, DATABASE_URL, …) never reach a tool.
 */
export const CHILD_ENV_PASSTHROUGH: readonly string[] = [
  // Finding programs the tool itself starts (kubectl credential plugins, ssh's ProxyCommand).
  "PATH",
  // Where tools keep their config and keys: ~/.kube/config, ~/.ssh, ~/.config/argocd.
  "HOME",
  "USER",
  "LOGNAME",
  "XDG_CONFIG_HOME",
  "XDG_CACHE_HOME",
  // Output encoding and language, and timestamps in the reader's time zone.
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TZ",
  "TMPDIR",
  // Which cluster kubectl and cmctl talk to.
  "KUBECONFIG",
  // ssh authenticates through an agent rather than key files the service would have to hold.
  "SSH_AUTH_SOCK",
  // The argocd CLI's server and token: meant for it; a value printed back is redacted like a secret.
  "ARGOCD_SERVER",
  "ARGOCD_AUTH_TOKEN",
  "ARGOCD_OPTS",
  // Tools must reach the same networks, through the same proxies and private CAs, as the host does.
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
];

/**
 * Never passed, even when named in `passEnv`: the service's credentials, secrets meant only for http
 * steps, and variables that load code into any child (`LD_PRELOAD`, `NODE_OPTIONS=--require …`).
 */
const neverPassed = [
  /^TOPICOPS_SECRET_/,
  /^TELEGRAM_/,
  /^HOOK_TOKEN$/,
  /^DATABASE_URL$/,
  /^REDIS_URL$/,
  /^QDRANT_API_KEY$/,
  /^LD_/,
  /^DYLD_/,
  /^NODE_OPTIONS$/,
  /^BASH_ENV$/,
  /^ENV$/,
  /^BASH_FUNC_/,
];

const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks the names an operator adds to the pass-through list; throws AppError("config") naming the bad ones. */
export function checkPassEnv(names: readonly string[]): string[] {
  const problems: string[] = [];
  for (const name of names) {
    if (!envNamePattern.test(name)) problems.push(`${JSON.stringify(name)} is not an environment variable name`);
    else if (neverPassed.some((re) => re.test(name))) problems.push(`${name} is never passed to runbook commands (a service credential, a secret for http steps, or a variable that loads code into programs)`);
  }
  if (problems.length > 0) throw new AppError("config", `environment for runbook commands: ${problems.join("; ")}`);
  return [...names];
}

/**
 * A child's environment: the pass-through subset of `base` that is set, plus settings that keep
 * output readable in a chat (no colours, no pagers, no interactive prompts).
 */
export function buildChildEnv(base: NodeJS.ProcessEnv, passEnv: readonly string[] = []): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...CHILD_ENV_PASSTHROUGH, ...passEnv]) {
    if (neverPassed.some((re) => re.test(name))) continue;
    const value = Object.hasOwn(base, name) ? base[name] : undefined;
    if (typeof value === "string") env[name] = value;
  }
  env.NO_COLOR = "1";
  env.TERM = "dumb";
  env.PAGER = "cat";
  return env;
}

const credentialName = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL/;

/**
 * Values in the service's environment that must never be shown if some program prints them: every
 * credential-looking variable (passed on or not: a child can read its parent's environment from
 * /proc), and passwords inside URLs (DATABASE_URL, proxies).
 */
export function environmentSecrets(base: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(base)) {
    if (typeof value !== "string" || value === "") continue;
    if (credentialName.test(name)) out.push(value);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      try {
        const url = new URL(value);
        if (url.password) out.push(url.password, decodeURIComponent(url.password));
      } catch {
        // Not a URL after all; nothing to take from it.
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Allowlist

const bareName = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;

/**
 * Interpreters that take a program as an argument (`sh -c "…"`): on the allowlist, they would undo
 * what running argv without a shell is for, so they are refused even when an operator names them.
 */
const shells = new Set(["sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "csh", "tcsh", "ash", "busybox", "pwsh"]);

export interface AllowedExecutable {
  /** As written in the allowlist. */
  entry: string;
  /** Absolute path, or undefined when a bare name was not found on PATH. */
  path: string | undefined;
}

export interface Allowlist {
  readonly entries: readonly AllowedExecutable[];
  /** The absolute path to start for a step's argv[0], or why it may not start. */
  resolve(executable: string): { path: string } | { error: string };
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A name looked up in the absolute directories of PATH; relative ones (`.`, ``) would depend on the working directory. */
export function findOnPath(name: string, pathValue: string | undefined): string | undefined {
  for (const dir of (pathValue ?? "").split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function pathProblem(file: string): string | undefined {
  if (file.includes("\0")) return "contains a NUL character";
  const segments = file.split("/").slice(1);
  if (segments.some((s) => s === "..")) return "contains a .. segment";
  if (segments.some((s) => s === "." || s === "")) return "is not a normalized path (./ or //)";
  return undefined;
}

/**
 * Resolves every bare name once, now, on `pathValue`: a program dropped later into a directory
 * earlier on PATH does not change what runs. Throws AppError("config") for entries that can never be
 * right (relative paths, `..`, shells).
 */
export function createAllowlist(allowlist: readonly string[], pathValue: string | undefined): Allowlist {
  const problems: string[] = [];
  const entries: AllowedExecutable[] = [];
  for (const raw of allowlist) {
    const entry = raw.trim();
    if (entry === "") continue;
    if (shells.has(path.basename(entry))) {
      problems.push(`${entry} is a shell: runbook steps run argv without one, so a shell may not be allowlisted`);
    } else if (entry.startsWith("/")) {
      const problem = pathProblem(entry);
      if (problem) problems.push(`${entry} ${problem}`);
      else entries.push({ entry, path: entry });
    } else if (bareName.test(entry)) {
      entries.push({ entry, path: findOnPath(entry, pathValue) });
    } else {
      problems.push(`${JSON.stringify(entry)} is neither a bare program name (kubectl) nor an absolute path (/usr/bin/kubectl)`);
    }
  }
  if (problems.length > 0) throw new AppError("config", `executable allowlist: ${problems.join("; ")}`);

  const listed = entries.length === 0 ? "the allowlist is empty" : `allowlist: ${entries.map((e) => e.entry).join(", ")}`;
  const notAllowed = (executable: string) => ({ error: `${JSON.stringify(executable)} is not on the executable allowlist (${listed}); add it to EXEC_ALLOWLIST if runbooks may start it` });

  const resolve = (executable: string): { path: string } | { error: string } => {
    if (executable === "") return { error: "the step has no executable" };
    if (executable.startsWith("/")) {
      const problem = pathProblem(executable);
      if (problem) return { error: `${JSON.stringify(executable)} ${problem}; write the executable's plain absolute path or its bare name` };
      const hit = entries.find((e) => e.path === executable);
      if (!hit) return notAllowed(executable);
      // Checked now rather than once: an absolute path names one file, and this says whether it is installed yet.
      if (!isExecutableFile(executable)) return { error: `${executable} is allowlisted but is not an executable file on this host` };
      return { path: executable };
    }
    if (executable.includes("/")) {
      return { error: `${JSON.stringify(executable)} is a relative path; write a bare name from the allowlist (${listed.replace(/^allowlist: /, "")}) or an absolute path` };
    }
    if (!bareName.test(executable)) return notAllowed(executable);
    const hit = entries.find((e) => e.entry === executable);
    if (!hit) return notAllowed(executable);
    if (hit.path === undefined) return { error: `${executable} is allowlisted but was not found on PATH when the service started (${pathValue ?? "PATH is not set"}); install it or allowlist its absolute path` };
    return { path: hit.path };
  };

  return { entries, resolve };
}

// ---------------------------------------------------------------------------------------------
// Running

/** How long a child gets between SIGTERM and SIGKILL: enough for kubectl or ssh to clean up. */
export const DEFAULT_KILL_GRACE_MS = 5_000;

/**
 * After the child exits, how long its output pipes may stay open: a program it left behind
 * (ssh's ControlPersist master, a daemon) can hold them for ever, and the step is over anyway.
 */
const PIPE_DRAIN_MS = 1_000;

export interface RunCommandOptions {
  /** Absolute path, from the allowlist. */
  file: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  killGraceMs: number;
  signal?: AbortSignal;
  /** stdout and stderr go to one capture, in the order they arrive. */
  capture: OutputCapture;
  now: () => number;
}

export interface RunCommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  cancelled: boolean;
  /** The process could not be started (or could not be stopped after SIGKILL). */
  spawnError: string | undefined;
  durationMs: number;
}

/** Runs one command without a shell, stdin closed, until it exits, times out or is cancelled. */
export function runCommand(options: RunCommandOptions): Promise<RunCommandResult> {
  const started = options.now();
  return new Promise((resolve) => {
    let timedOut = false;
    let cancelled = false;
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    let child: ChildProcess;

    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: string) => {
      if (done) return;
      done = true;
      for (const timer of timers) clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      resolve({ exitCode, signal, timedOut, cancelled, spawnError, durationMs: options.now() - started });
    };

    // The child leads its own process group, so what it started (credential plugins, ssh helpers)
    // is stopped with it rather than left holding the output pipes.
    const kill = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          // Already gone.
        }
      }
    };

    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      kill("SIGTERM");
      timers.push(
        setTimeout(() => {
          kill("SIGKILL");
          // A process in uninterruptible sleep survives even SIGKILL for a while; do not wait on it for ever.
          timers.push(setTimeout(() => finish(null, "SIGKILL", "the process did not exit after SIGKILL"), Math.max(options.killGraceMs, PIPE_DRAIN_MS)));
        }, options.killGraceMs),
      );
    };

    const onAbort = () => {
      if (done) return;
      cancelled = true;
      stop();
    };

    try {
      child = spawn(options.file, [...options.args], {
        shell: false,
        stdio: ["ignore", "pipe", "pipe"],
        env: options.env,
        cwd: options.cwd,
        detached: true,
        windowsHide: true,
      });
    } catch (error) {
      finish(null, null, (error as Error).message);
      return;
    }

    child.stdout?.on("data", (chunk: Buffer) => options.capture.write(chunk));
    child.stderr?.on("data", (chunk: Buffer) => options.capture.write(chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      // Only a failed start ends the step here; errors after it are followed by close.
      if (child.pid === undefined) finish(null, null, error.code === "ENOENT" ? `${options.file} does not exist` : error.message);
    });
    child.on("exit", (code, sig) => {
      timers.push(
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish(code, sig);
        }, PIPE_DRAIN_MS),
      );
    });
    child.on("close", (code: number | null, sig: NodeJS.Signals | null) => finish(code, sig));

    timers.push(
      setTimeout(() => {
        if (done) return;
        timedOut = true;
        stop();
      }, options.timeoutMs),
    );
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
