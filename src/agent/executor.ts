import { tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { formatDuration } from "../runbooks/duration.ts";
import { renderArgv, renderBody, renderHeaders, renderQuery, renderUrl, runbookSecrets, type SecretLookup } from "../runbooks/template.ts";
import type { CheckStep, HttpRequestSpec, HttpStep, RetryPolicy, Runbook, RunbookStep, RunStep, WaitStep } from "../runbooks/types.ts";
import { plural } from "../util/plural.ts";
import { sleep as defaultSleep } from "../util/sleep.ts";
import { describeStatuses, humanDuration, shortCommand } from "./display.ts";
import { httpCall, type HttpCallResult } from "./http-request.ts";
import { createOutputCapture, createRedactor, DEFAULT_MAX_OUTPUT_BYTES, type OutputCapture, type Redactor } from "./output.ts";
import { planExecution, requestHeaders, stepName, type ExecutionPlan } from "./plan.ts";
import { judgePrometheus, queryPrometheus } from "./prometheus.ts";
import { buildChildEnv, checkPassEnv, createAllowlist, DEFAULT_KILL_GRACE_MS, environmentSecrets, runCommand, type RunCommandResult } from "./run-command.ts";

/**
 * Runs an approved runbook's steps in order, safely: argv without a shell and only allowlisted
 * programs, values checked against their patterns where they are used, secrets only where the
 * runbook put them and redacted from everything that comes back, every step bounded in time, and
 * the whole thing cancellable.
 */

export interface ExecutorDeps {
  /**
   * Executables a `run` step may start: bare names resolved on PATH (once, when the executor is
   * created) or absolute paths. Anything else is refused before it starts; shells are refused here.
   */
  allowlist: readonly string[];
  /** Prometheus base URL for `check: prometheus` steps; undefined → such a step fails with a clear reason. */
  prometheusUrl?: string;
  /** Secret lookup (the service passes name => process.env[`TOPICOPS_SECRET_${name}`]). */
  secrets: SecretLookup;
  fetch?: typeof fetch;
  /** Milliseconds on a monotonic clock: durations and check deadlines. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Base environment for child processes; only CHILD_ENV_PASSTHROUGH (and `passEnv`) reach them. */
  env?: NodeJS.ProcessEnv;
  /** More variable names to pass through (AWS_PROFILE for an EKS kubeconfig, …); credentials of the service are refused. */
  passEnv?: readonly string[];
  /** Output kept per step (head and tail); default 16 KiB. */
  maxOutputBytes?: number;
  /** Between SIGTERM and SIGKILL when a step times out or is cancelled; default 5s. */
  killGraceMs?: number;
  /** Working directory of child processes; default the system temp directory, never the service's own. */
  cwd?: string;
  /** Where a failing progress hook is reported: a hook never stops an execution. */
  logger?: Pick<Logger, "warn">;
}

export interface ExecutionInput {
  runbook: Runbook;
  values: Record<string, string>;
  signal?: AbortSignal;
}

export type StepType = RunbookStep["type"];

export interface StepResult {
  index: number;
  name: string;
  type: StepType;
  status: "succeeded" | "failed" | "skipped";
  /** Tries made: 0 when the step was refused or skipped. */
  attempts: number;
  durationMs: number;
  /** One line for a progress message. */
  summary: string;
  /** Trimmed, secrets redacted. */
  output: string;
  error?: string;
}

export interface ExecutionResult {
  status: "succeeded" | "failed" | "cancelled";
  steps: StepResult[];
  durationMs: number;
  /** The step that failed, or that was running when the execution was cancelled. */
  failedStep?: number;
  error?: string;
}

export interface ExecutionHooks {
  onStepStart?(index: number, step: RunbookStep): void | Promise<void>;
  onStepEnd?(result: StepResult): void | Promise<void>;
}

export interface Executor {
  execute(input: ExecutionInput, hooks?: ExecutionHooks): Promise<ExecutionResult>;
  /**
   * The plan with what only this host can tell added: executables that are not allowlisted or not
   * installed, secrets that are not set. An execution refuses to start while `problems` is not empty.
   */
  preflight(runbook: Runbook, values: Readonly<Record<string, string>>): ExecutionPlan;
}

/** A check's single request never outlives this, whatever its `within`: a hung server is an observation too. */
const CHECK_TRY_MAX_MS = 30_000;
/** The last try before a check's deadline still gets this long to answer. */
const CHECK_TRY_MIN_MS = 1_000;
/** How much of a check's http answer is searched for `body_contains`. */
const CHECK_BODY_BYTES = 1024 * 1024;

interface StepContext {
  values: Readonly<Record<string, string>>;
  signal: AbortSignal | undefined;
  redactor: Redactor;
}

/** What a step runner reports; the executor adds index, name and type. */
interface StepOutcome {
  ok: boolean;
  attempts: number;
  summary: string;
  output: string;
  error?: string;
}

/** One try of a step that may be retried (see withRetries). */
interface Try {
  ok: boolean;
  /** This try was cancelled: there is no next one. */
  cancelled: boolean;
  /** Why it did not work, in the note before the next try. */
  note: string;
  /** The step's summary if this is its last try, without the number of tries. */
  summary: string;
  /** The step's error if this is its last try and it did not work (and was not cancelled). */
  error: string;
}

export function createExecutor(deps: ExecutorDeps): Executor {
  const baseEnv = deps.env ?? process.env;
  const allowlist = createAllowlist(deps.allowlist, baseEnv.PATH);
  const childEnv = buildChildEnv(baseEnv, checkPassEnv(deps.passEnv ?? []));
  const envSecrets = environmentSecrets(baseEnv);
  const fetchFn = deps.fetch ?? globalThis.fetch;
  const now = deps.now ?? (() => performance.now());
  const sleepFn = deps.sleep ?? defaultSleep;
  const maxOutputBytes = deps.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const killGraceMs = deps.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const cwd = deps.cwd ?? tmpdir();

  const sleep = async (ms: number, signal: AbortSignal | undefined): Promise<void> => {
    try {
      await sleepFn(ms, signal);
    } catch (error) {
      // A sleep may reject on abort (the default does); the callers look at the signal either way.
      if (!signal?.aborted) throw error;
    }
  };

  const preflight = (runbook: Runbook, values: Readonly<Record<string, string>>): ExecutionPlan => {
    const plan = planExecution(runbook, values);
    const problems = [...plan.problems];
    const steps = plan.steps.map((planned) => {
      if (planned.problem !== undefined) return planned;
      const step = runbook.steps[planned.index]!;
      let problem: string | undefined;
      if (planned.type === "run") {
        const resolved = allowlist.resolve(planned.argv[0] ?? "");
        if ("error" in resolved) problem = resolved.error;
      } else {
        const request = step.type === "http" ? step.request : step.type === "check" && step.condition.kind === "http" ? step.condition.request : undefined;
        if (request) {
          try {
            renderHeaders(request.headers, values, deps.secrets);
            renderBody(request.body, values, deps.secrets);
          } catch (error) {
            problem = errorMessage(error);
          }
        }
      }
      if (problem === undefined) return planned;
      problems.push(`step ${planned.index + 1} (${planned.name}): ${problem}`);
      return { ...planned, problem };
    });
    return { ...plan, steps, problems };
  };

  // -------------------------------------------------------------------------------------------
  // retries (run and http steps)

  /**
   * Tries a step until one try works, one is cancelled, or its retries are spent, with the delay
   * between tries. Each try gets its own capture; the output is the notes on the earlier tries
   * followed by the last try's capture. `what` names the step in the summary when it is
   * cancelled while waiting to try again.
   */
  const withRetries = async (what: string, retries: RetryPolicy, ctx: StepContext, attempt: (capture: OutputCapture) => Promise<Try>): Promise<StepOutcome> => {
    const earlier: string[] = [];
    for (let attempts = 1; ; attempts++) {
      const capture = createOutputCapture({ maxBytes: maxOutputBytes, redactor: ctx.redactor });
      const t = await attempt(capture);
      if (t.ok || t.cancelled || attempts > retries.attempts || ctx.signal?.aborted) {
        const tries = attempts > 1 ? ` (${plural(attempts, "try", "tries")})` : "";
        return {
          ok: t.ok,
          attempts,
          summary: `${t.summary}${tries}`,
          output: [...earlier, capture.text()].filter((text) => text !== "").join("\n"),
          ...(t.ok ? {} : { error: t.cancelled || ctx.signal?.aborted ? "cancelled" : t.error }),
        };
      }
      earlier.push(`[try ${attempts}: ${t.note}; trying again in ${humanDuration(retries.delayMs)}]`);
      await sleep(retries.delayMs, ctx.signal);
      if (ctx.signal?.aborted) {
        return { ok: false, attempts, summary: `${what} — cancelled (${plural(attempts, "try", "tries")})`, output: earlier.join("\n"), error: "cancelled" };
      }
    }
  };

  // -------------------------------------------------------------------------------------------
  // run

  const describeExit = (r: RunCommandResult, timeoutMs: number): { ok: boolean; short: string; error: string } => {
    if (r.cancelled) return { ok: false, short: "cancelled", error: "cancelled" };
    if (r.timedOut) {
      const text = `timed out after ${formatDuration(timeoutMs)}`;
      return { ok: false, short: text, error: text };
    }
    if (r.spawnError !== undefined) return { ok: false, short: "could not start", error: `could not start: ${r.spawnError}` };
    if (r.signal !== null) return { ok: false, short: `killed by ${r.signal}`, error: `killed by ${r.signal}` };
    const code = r.exitCode ?? -1;
    return { ok: code === 0, short: `exit ${code}`, error: `exit code ${code}` };
  };

  const runStep = async (step: RunStep, ctx: StepContext): Promise<StepOutcome> => {
    const argv = renderArgv(step.argv, ctx.values);
    const resolved = allowlist.resolve(argv[0] ?? "");
    const command = shortCommand(argv);
    if ("error" in resolved) return { ok: false, attempts: 0, summary: `${command} — refused`, output: "", error: resolved.error };
    return withRetries(command, step.retries, ctx, async (capture) => {
      const r = await runCommand({
        file: resolved.path,
        args: argv.slice(1),
        env: childEnv,
        cwd,
        timeoutMs: step.timeoutMs,
        killGraceMs,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        capture,
        now,
      });
      const exit = describeExit(r, step.timeoutMs);
      const timing = r.timedOut || r.cancelled || r.spawnError !== undefined ? "" : ` in ${humanDuration(r.durationMs)}`;
      return {
        ok: exit.ok,
        cancelled: r.cancelled,
        note: `${exit.short} in ${humanDuration(r.durationMs)}`,
        summary: `${command} — ${exit.short}${timing}`,
        error: exit.error,
      };
    });
  };

  // -------------------------------------------------------------------------------------------
  // http

  const renderRequest = (request: HttpRequestSpec, ctx: StepContext) => ({
    method: request.method,
    url: renderUrl(request.url, ctx.values),
    headers: requestHeaders(request, renderHeaders(request.headers, ctx.values, deps.secrets)),
    body: renderBody(request.body, ctx.values, deps.secrets),
  });

  /** Why an answer does not count, or undefined when it does. */
  const answerProblem = (r: HttpCallResult, expectStatus: readonly number[], timeoutMs: number): string | undefined => {
    if (r.cancelled) return "cancelled";
    if (r.timedOut) return `no answer within ${formatDuration(timeoutMs)}`;
    if (r.error !== undefined || r.status === undefined) return r.error ?? "no answer";
    if (expectStatus.includes(r.status)) return undefined;
    const redirect = r.redirectTo === undefined ? "" : ` (a redirect to ${r.redirectTo}, not followed)`;
    return `HTTP ${r.status}${redirect}, expected ${describeStatuses(expectStatus)}`;
  };

  const httpStep = async (step: HttpStep, ctx: StepContext): Promise<StepOutcome> => {
    const request = renderRequest(step.request, ctx);
    const label = `${request.method} ${request.url}`;
    return withRetries(label, step.retries, ctx, async (capture) => {
      const r = await httpCall({
        fetch: fetchFn,
        ...request,
        timeoutMs: step.timeoutMs,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        capture,
        now,
      });
      const problem = answerProblem(r, step.request.expectStatus, step.timeoutMs);
      const short = r.status !== undefined ? `→ ${r.status}` : `— ${problem ?? "no answer"}`;
      const timing = r.status !== undefined ? ` in ${humanDuration(r.durationMs)}` : "";
      const expected = r.status !== undefined && problem !== undefined ? `, expected ${describeStatuses(step.request.expectStatus)}` : "";
      return {
        ok: problem === undefined,
        cancelled: r.cancelled,
        note: problem ?? "",
        summary: `${label} ${short}${timing}${expected}`,
        error: problem ?? "",
      };
    });
  };

  // -------------------------------------------------------------------------------------------
  // wait

  const waitStep = async (step: WaitStep, ctx: StepContext): Promise<StepOutcome> => {
    const started = now();
    await sleep(step.durationMs, ctx.signal);
    if (ctx.signal?.aborted) {
      const text = `cancelled after ${humanDuration(now() - started)} of ${formatDuration(step.durationMs)}`;
      return { ok: false, attempts: 1, summary: `wait ${text}`, output: "", error: "cancelled" };
    }
    return { ok: true, attempts: 1, summary: `waited ${formatDuration(step.durationMs)}`, output: "" };
  };

  // -------------------------------------------------------------------------------------------
  // check

  interface Observation {
    holds: boolean;
    text: string;
    fatal?: string;
    cancelled?: boolean;
  }

  const checkStep = async (step: CheckStep, ctx: StepContext): Promise<StepOutcome> => {
    const condition = step.condition;
    const kind = condition.kind;
    let observe: (timeoutMs: number) => Promise<Observation>;
    if (condition.kind === "prometheus") {
      const baseUrl = deps.prometheusUrl;
      if (baseUrl === undefined || baseUrl === "") {
        return { ok: false, attempts: 0, summary: "check prometheus: no Prometheus to ask", output: "", error: "no Prometheus to ask: set PROMETHEUS_URL to check this condition" };
      }
      const query = renderQuery(condition.query, ctx.values);
      observe = async (timeoutMs) => {
        const answer = await queryPrometheus({ fetch: fetchFn, baseUrl, query, timeoutMs, ...(ctx.signal ? { signal: ctx.signal } : {}), now });
        if (answer.kind === "cancelled") return { holds: false, text: "cancelled", cancelled: true };
        const judged = judgePrometheus(answer, condition.expect);
        return { holds: judged.holds, text: judged.observation, ...(judged.fatal ? { fatal: judged.fatal } : {}) };
      };
    } else {
      const request = renderRequest(condition.request, ctx);
      observe = async (timeoutMs) => {
        const r = await httpCall({ fetch: fetchFn, ...request, timeoutMs, ...(ctx.signal ? { signal: ctx.signal } : {}), keepBytes: CHECK_BODY_BYTES, now });
        if (r.cancelled) return { holds: false, text: "cancelled", cancelled: true };
        const problem = answerProblem(r, condition.request.expectStatus, timeoutMs);
        if (problem !== undefined) return { holds: false, text: problem };
        if (condition.bodyContains === undefined) return { holds: true, text: `HTTP ${r.status}` };
        if (r.body.includes(condition.bodyContains)) return { holds: true, text: `HTTP ${r.status} with ${JSON.stringify(condition.bodyContains)} in the body` };
        const searched = r.truncated ? ` (in its first ${CHECK_BODY_BYTES / 1024 / 1024} MiB)` : "";
        return { holds: false, text: `HTTP ${r.status}, but the body does not contain ${JSON.stringify(condition.bodyContains)}${searched}` };
      };
    }

    const started = now();
    const deadline = started + step.withinMs;
    const log = createOutputCapture({ maxBytes: maxOutputBytes, redactor: ctx.redactor });
    let tries = 0;
    for (;;) {
      tries++;
      const tryTimeout = Math.min(CHECK_TRY_MAX_MS, Math.max(CHECK_TRY_MIN_MS, deadline - now()));
      const seen = await observe(tryTimeout);
      const elapsed = now() - started;
      if (seen.cancelled || ctx.signal?.aborted) {
        return { ok: false, attempts: tries, summary: `check ${kind}: cancelled after ${plural(tries, "try", "tries")} (${humanDuration(elapsed)})`, output: log.text(), error: "cancelled" };
      }
      log.write(`try ${tries} at +${humanDuration(elapsed)}: ${seen.text}\n`);
      if (seen.fatal !== undefined) {
        return { ok: false, attempts: tries, summary: `check ${kind}: the query is wrong`, output: log.text(), error: seen.fatal };
      }
      if (seen.holds) {
        return { ok: true, attempts: tries, summary: `check ${kind}: holds after ${plural(tries, "try", "tries")} (${humanDuration(elapsed)})`, output: log.text() };
      }
      const remaining = deadline - now();
      if (remaining <= 0) {
        return {
          ok: false,
          attempts: tries,
          summary: `check ${kind}: did not hold within ${formatDuration(step.withinMs)} (${plural(tries, "try", "tries")})`,
          output: log.text(),
          error: `condition did not hold within ${formatDuration(step.withinMs)}: ${seen.text}`,
        };
      }
      // The last wait is cut short so one more look happens right at the deadline.
      await sleep(Math.min(step.everyMs, remaining), ctx.signal);
      if (ctx.signal?.aborted) {
        return { ok: false, attempts: tries, summary: `check ${kind}: cancelled after ${plural(tries, "try", "tries")} (${humanDuration(now() - started)})`, output: log.text(), error: "cancelled" };
      }
    }
  };

  const dispatch = (step: RunbookStep, ctx: StepContext): Promise<StepOutcome> => {
    switch (step.type) {
      case "run":
        return runStep(step, ctx);
      case "http":
        return httpStep(step, ctx);
      case "wait":
        return waitStep(step, ctx);
      case "check":
        return checkStep(step, ctx);
    }
  };

  // -------------------------------------------------------------------------------------------
  // execute

  const skipped = (step: RunbookStep, index: number): StepResult => ({
    index,
    name: stepName(step),
    type: step.type,
    status: "skipped",
    attempts: 0,
    durationMs: 0,
    summary: `${stepName(step)}: skipped`,
    output: "",
  });

  const callHook = async (what: string, runbookId: string, index: number, hook: () => void | Promise<void>): Promise<void> => {
    try {
      await hook();
    } catch (error) {
      deps.logger?.warn({ err: error, runbook: runbookId, step: index }, `execution ${what} hook failed`);
    }
  };

  const execute = async (input: ExecutionInput, hooks: ExecutionHooks = {}): Promise<ExecutionResult> => {
    const { runbook, values, signal } = input;
    const started = now();
    const redactor = createRedactor([...runbookSecrets(runbook).map((name) => deps.secrets(name)), ...envSecrets]);
    const scrub = (text: string) => redactor.redact(text);
    const steps = runbook.steps.map(skipped);
    const elapsed = () => Math.round(now() - started);

    const plan = preflight(runbook, values);
    if (plan.problems.length > 0) {
      let failedStep: number | undefined;
      for (const planned of plan.steps) {
        if (planned.problem === undefined) continue;
        failedStep ??= planned.index;
        steps[planned.index] = { ...steps[planned.index]!, status: "failed", summary: scrub(`${planned.name}: refused`), error: scrub(planned.problem) };
      }
      return { status: "failed", steps, durationMs: elapsed(), ...(failedStep === undefined ? {} : { failedStep }), error: scrub(`refused before anything ran: ${plan.problems.join("; ")}`) };
    }

    const ctx: StepContext = { values, signal, redactor };
    for (const [index, step] of runbook.steps.entries()) {
      if (signal?.aborted) return { status: "cancelled", steps, durationMs: elapsed(), error: `cancelled before step ${index + 1} (${stepName(step)})` };
      await callHook("onStepStart", runbook.id, index, () => hooks.onStepStart?.(index, step));
      const stepStarted = now();
      let outcome: StepOutcome;
      try {
        outcome = await dispatch(step, ctx);
      } catch (error) {
        // Rendering was checked before the first step; this is a bug or a secret removed meanwhile.
        outcome = { ok: false, attempts: 0, summary: `${stepName(step)}: could not run`, output: "", error: errorMessage(error) };
      }
      const result: StepResult = {
        index,
        name: stepName(step),
        type: step.type,
        status: outcome.ok ? "succeeded" : "failed",
        attempts: outcome.attempts,
        durationMs: Math.round(now() - stepStarted),
        summary: scrub(outcome.summary),
        output: scrub(outcome.output),
        ...(outcome.error === undefined ? {} : { error: scrub(outcome.error) }),
      };
      steps[index] = result;
      await callHook("onStepEnd", runbook.id, index, () => hooks.onStepEnd?.(result));
      if (result.status === "failed") {
        const where = `step ${index + 1} (${result.name})`;
        if (signal?.aborted) return { status: "cancelled", steps, durationMs: elapsed(), failedStep: index, error: `cancelled during ${where}` };
        return { status: "failed", steps, durationMs: elapsed(), failedStep: index, error: scrub(`${where} failed: ${result.error ?? "failed"}`) };
      }
    }
    return { status: "succeeded", steps, durationMs: elapsed() };
  };

  return { execute, preflight };
}
