import { errorMessage } from "../errors.ts";
import { formatDuration } from "../runbooks/duration.ts";
import {
  anchorPattern,
  MAX_PARAM_VALUE_LENGTH,
  parseTemplate,
  quoteValue,
  renderArgv,
  renderBody,
  renderHeaders,
  renderQuery,
  renderUrl,
  type ParamValues,
} from "../runbooks/template.ts";
import type { CheckStep, HttpMethod, HttpRequestSpec, RetryPolicy, Runbook, RunbookStep } from "../runbooks/types.ts";
import { describeStatuses, displayArgv } from "./display.ts";

/**
 * What a runbook will do with these values, rendered step by step without running anything: what a
 * person sees before approving, and the check the executor makes before it starts the first step.
 */

export interface ParamProblem {
  param: string;
  /** The first step that uses the param, if any does. */
  step: number | undefined;
  message: string;
}

/** Every template string a step renders, wherever it sits. */
export function stepTemplates(step: RunbookStep): string[] {
  const request = (r: HttpRequestSpec): string[] => [r.url, ...Object.values(r.headers), ...bodyStrings(r.body)];
  switch (step.type) {
    case "run":
      return [...step.argv];
    case "http":
      return request(step.request);
    case "wait":
      return [];
    case "check":
      return step.condition.kind === "http" ? request(step.condition.request) : [step.condition.query];
  }
}

function bodyStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(bodyStrings);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(bodyStrings);
  return [];
}

function referencedParams(step: RunbookStep): Set<string> {
  const names = new Set<string>();
  for (const text of stepTemplates(step)) {
    const parsed = parseTemplate(text);
    if ("parts" in parsed) for (const part of parsed.parts) if (part.kind === "ref" && part.ref.kind === "param") names.add(part.ref.name);
  }
  return names;
}

/**
 * The values checked again, here where they are used: every param a step uses has a value, and
 * every value matches its param's pattern. `resolveParams` did this already for alert data, but
 * values also come from a person's Modify or an LLM's proposal, and a check that cannot be skipped
 * by a caller is the one that holds.
 */
export function checkParamValues(runbook: Pick<Runbook, "params" | "steps">, values: Readonly<Record<string, string>>): ParamProblem[] {
  const firstUse = new Map<string, number>();
  runbook.steps.forEach((step, index) => {
    for (const name of referencedParams(step)) if (!firstUse.has(name)) firstUse.set(name, index);
  });
  const problems: ParamProblem[] = [];
  for (const param of runbook.params) {
    const step = firstUse.get(param.name);
    const value = Object.hasOwn(values, param.name) ? values[param.name] : undefined;
    if (value === undefined) {
      if (step !== undefined) problems.push({ param: param.name, step, message: `param "${param.name}" has no value` });
      continue;
    }
    if (typeof value !== "string") {
      problems.push({ param: param.name, step, message: `param "${param.name}": the value is not text` });
      continue;
    }
    if (value.length > MAX_PARAM_VALUE_LENGTH) {
      problems.push({ param: param.name, step, message: `param "${param.name}": the value is ${value.length} characters long; the limit is ${MAX_PARAM_VALUE_LENGTH}` });
      continue;
    }
    let re: RegExp;
    try {
      // Anchored again: a runbook built in code rather than loaded from a file may hold a bare pattern.
      re = new RegExp(anchorPattern(param.pattern));
    } catch {
      problems.push({ param: param.name, step, message: `param "${param.name}": its pattern ${param.pattern} does not compile` });
      continue;
    }
    if (!re.test(value)) problems.push({ param: param.name, step, message: `param "${param.name}": value ${quoteValue(value)} does not match the param's pattern ${param.pattern}` });
  }
  const declared = new Set(runbook.params.map((p) => p.name));
  for (const [name, step] of firstUse) {
    if (!declared.has(name)) problems.push({ param: name, step, message: `param "${name}" is used by a step but not declared` });
  }
  return problems;
}

export interface PlannedRequest {
  method: HttpMethod;
  url: string;
  /** Secrets shown as `[secret NAME]`: a plan is for people and is stored with the approval. */
  headers: Record<string, string>;
  body: string | undefined;
  expectStatus: number[];
}

interface PlannedBase {
  index: number;
  name: string;
  /** One line for a person: the command, the request, the wait or the condition. */
  text: string;
  /** Why this step cannot run with these values; the step is shown unrendered. */
  problem: string | undefined;
}

export type PlannedStep =
  | (PlannedBase & { type: "run"; argv: string[]; timeoutMs: number; retries: RetryPolicy })
  | (PlannedBase & { type: "http"; request: PlannedRequest; timeoutMs: number; retries: RetryPolicy })
  | (PlannedBase & { type: "wait"; durationMs: number })
  | (PlannedBase & {
      type: "check";
      withinMs: number;
      everyMs: number;
      condition: { kind: "http"; request: PlannedRequest; bodyContains: string | undefined } | { kind: "prometheus"; query: string; expect: "nonempty" | "empty" };
    });

export interface ExecutionPlan {
  runbookId: string;
  steps: PlannedStep[];
  /** Every reason the runbook cannot run with these values; empty when it can. */
  problems: string[];
}

/** A step's name for people: its own, or what it does. */
export function stepName(step: RunbookStep): string {
  if (step.name) return step.name;
  switch (step.type) {
    case "run":
      return `run ${step.argv[0] ?? ""}`.trim();
    case "http":
      return `${step.request.method} request`;
    case "wait":
      return `wait ${formatDuration(step.durationMs)}`;
    case "check":
      return `check ${step.condition.kind}`;
  }
}

export const maskSecret = (name: string): string => `[secret ${name}]`;

/** Adds `content-type: application/json` for a map body when the runbook names no content type. */
export function requestHeaders(request: HttpRequestSpec, rendered: Record<string, string>): Record<string, string> {
  const hasType = Object.keys(rendered).some((name) => name.toLowerCase() === "content-type");
  if (hasType || request.body === undefined || typeof request.body === "string") return rendered;
  return { ...rendered, "content-type": "application/json" };
}

function planRequest(request: HttpRequestSpec, values: ParamValues): PlannedRequest {
  return {
    method: request.method,
    url: renderUrl(request.url, values),
    headers: requestHeaders(request, renderHeaders(request.headers, values, maskSecret)),
    body: renderBody(request.body, values, maskSecret),
    expectStatus: [...request.expectStatus],
  };
}

function unrenderedRequest(request: HttpRequestSpec): PlannedRequest {
  return {
    method: request.method,
    url: request.url,
    headers: { ...request.headers },
    body: typeof request.body === "string" || request.body === undefined ? request.body : JSON.stringify(request.body),
    expectStatus: [...request.expectStatus],
  };
}

const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim();

function describeCheck(step: CheckStep, condition: Extract<PlannedStep, { type: "check" }>["condition"]): string {
  const timing = `within ${formatDuration(step.withinMs)}, every ${formatDuration(step.everyMs)}`;
  if (condition.kind === "prometheus") {
    return `check prometheus: ${oneLine(condition.query)} is ${condition.expect === "empty" ? "empty" : "non-empty"} (${timing})`;
  }
  const contains = condition.bodyContains === undefined ? "" : ` with ${JSON.stringify(condition.bodyContains)} in the body`;
  return `check http: ${condition.request.method} ${condition.request.url} answers ${describeStatuses(condition.request.expectStatus)}${contains} (${timing})`;
}

function planStep(step: RunbookStep, index: number, values: ParamValues, problem: string | undefined): PlannedStep {
  const base = { index, name: stepName(step) };
  const render = problem === undefined;
  switch (step.type) {
    case "run": {
      const argv = render ? renderArgv(step.argv, values) : [...step.argv];
      return { ...base, type: "run", argv, text: displayArgv(argv), problem, timeoutMs: step.timeoutMs, retries: { ...step.retries } };
    }
    case "http": {
      const request = render ? planRequest(step.request, values) : unrenderedRequest(step.request);
      const text = `${request.method} ${request.url} (expect ${describeStatuses(request.expectStatus)})`;
      return { ...base, type: "http", request, text, problem, timeoutMs: step.timeoutMs, retries: { ...step.retries } };
    }
    case "wait":
      return { ...base, type: "wait", durationMs: step.durationMs, text: `wait ${formatDuration(step.durationMs)}`, problem };
    case "check": {
      const c = step.condition;
      const condition: Extract<PlannedStep, { type: "check" }>["condition"] =
        c.kind === "prometheus"
          ? { kind: "prometheus", query: render ? renderQuery(c.query, values) : c.query, expect: c.expect }
          : { kind: "http", request: render ? planRequest(c.request, values) : unrenderedRequest(c.request), bodyContains: c.bodyContains };
      return { ...base, type: "check", withinMs: step.withinMs, everyMs: step.everyMs, condition, text: describeCheck(step, condition), problem };
    }
  }
}

/**
 * Every step rendered with `values`, nothing run. A step whose values are missing or refused, or
 * whose rendering fails (a value that is not a host name where the URL needs one), carries the
 * reason in `problem` and is shown as written.
 */
export function planExecution(runbook: Runbook, values: Readonly<Record<string, string>>): ExecutionPlan {
  const paramProblems = checkParamValues(runbook, values);
  const problems: string[] = paramProblems.map((p) => p.message);
  if (runbook.kind !== "runbook") problems.push(`${runbook.id} is a page to read, not a runbook with steps: nothing to run`);

  const steps = runbook.steps.map((step, index) => {
    // A refused value is refused in every step that uses it, not only the first.
    const uses = referencedParams(step);
    const own = paramProblems.filter((p) => uses.has(p.param)).map((p) => p.message);
    if (own.length > 0) return planStep(step, index, values, own.join("; "));
    try {
      return planStep(step, index, values, undefined);
    } catch (error) {
      const problem = errorMessage(error);
      problems.push(`step ${index + 1} (${stepName(step)}): ${problem}`);
      return planStep(step, index, values, problem);
    }
  });
  return { runbookId: runbook.id, steps, problems };
}
