import { plural } from "../util/plural.ts";
import { humanDuration } from "./display.ts";
import { httpCall } from "./http-request.ts";

/**
 * `check: prometheus` steps: one instant query against Prometheus's HTTP API, and what its answer
 * says about the condition. Every answer is an observation a person can read, errors included,
 * because "Prometheus was down for a minute" is worth seeing next to "the condition did not hold".
 */

/** A larger answer is a query matching far more than a check means to look at. */
export const MAX_PROMETHEUS_RESPONSE_BYTES = 4 * 1024 * 1024;

export type PrometheusAnswer =
  | { kind: "series"; resultType: "vector" | "matrix"; series: Array<{ metric: Record<string, string>; value: string }> }
  | { kind: "value"; resultType: "scalar" | "string"; value: string }
  /** `badQuery`: Prometheus could not parse the query; asking again cannot help. */
  | { kind: "error"; message: string; badQuery: boolean }
  | { kind: "cancelled" };

export interface PrometheusQueryOptions {
  fetch: typeof fetch;
  baseUrl: string;
  query: string;
  timeoutMs: number;
  signal?: AbortSignal;
  now: () => number;
}

/** `<base>/api/v1/query?query=…`; a base with a path (behind a reverse proxy) keeps it. */
export function prometheusQueryUrl(baseUrl: string, query: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/api/v1/query?${new URLSearchParams({ query }).toString()}`;
}

export async function queryPrometheus(options: PrometheusQueryOptions): Promise<PrometheusAnswer> {
  const response = await httpCall({
    fetch: options.fetch,
    method: "GET",
    url: prometheusQueryUrl(options.baseUrl, options.query),
    headers: { accept: "application/json" },
    body: undefined,
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    keepBytes: MAX_PROMETHEUS_RESPONSE_BYTES,
    now: options.now,
  });
  if (response.cancelled) return { kind: "cancelled" };
  if (response.timedOut) return { kind: "error", message: `Prometheus did not answer within ${humanDuration(options.timeoutMs)}`, badQuery: false };
  if (response.error !== undefined || response.status === undefined) return { kind: "error", message: `Prometheus: ${response.error ?? "no answer"}`, badQuery: false };
  if (response.truncated) return { kind: "error", message: `Prometheus's answer is larger than ${MAX_PROMETHEUS_RESPONSE_BYTES / 1024 / 1024} MiB: narrow the query`, badQuery: false };

  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch {
    json = undefined;
  }
  const api = isRecord(json) ? json : undefined;
  if (api?.status === "error" || response.status < 200 || response.status > 299) {
    const errorType = typeof api?.errorType === "string" ? api.errorType : undefined;
    const detail = typeof api?.error === "string" ? api.error : response.body.trim().slice(0, 200) || "no details";
    return {
      kind: "error",
      message: `Prometheus answered HTTP ${response.status}${errorType ? ` (${errorType})` : ""}: ${detail}`,
      badQuery: response.status === 400 && errorType === "bad_data",
    };
  }
  const data = isRecord(api?.data) ? api.data : undefined;
  const resultType = data?.resultType;
  const result = data?.result;
  if ((resultType === "vector" || resultType === "matrix") && Array.isArray(result)) {
    const series = result.filter(isRecord).map((item) => ({ metric: stringMap(item.metric), value: lastValue(resultType === "vector" ? item.value : lastOf(item.values)) }));
    return { kind: "series", resultType, series };
  }
  if ((resultType === "scalar" || resultType === "string") && Array.isArray(result)) {
    return { kind: "value", resultType, value: lastValue(result) };
  }
  return { kind: "error", message: `not a Prometheus query answer (HTTP ${response.status}): ${response.body.trim().slice(0, 200) || "empty body"}`, badQuery: false };
}

export interface PrometheusJudgement {
  holds: boolean;
  observation: string;
  /** Set when asking again cannot change the outcome. */
  fatal: string | undefined;
}

/**
 * `nonempty` holds for a vector or matrix with at least one series, or a non-zero scalar; `empty`
 * for no series, or a zero (or NaN) scalar.
 */
export function judgePrometheus(answer: Exclude<PrometheusAnswer, { kind: "cancelled" }>, expect: "nonempty" | "empty"): PrometheusJudgement {
  if (answer.kind === "error") {
    return { holds: false, observation: answer.message, fatal: answer.badQuery ? `Prometheus refused the query: ${answer.message}` : undefined };
  }
  if (answer.kind === "series") {
    const nonEmpty = answer.series.length > 0;
    return { holds: expect === "nonempty" ? nonEmpty : !nonEmpty, observation: describeSeries(answer.series), fatal: undefined };
  }
  const nonEmpty = answer.resultType === "string" ? answer.value !== "" : isNonZero(answer.value);
  return { holds: expect === "nonempty" ? nonEmpty : !nonEmpty, observation: `${answer.resultType} ${answer.value}`, fatal: undefined };
}

function isNonZero(value: string): boolean {
  const n = Number(value);
  return !Number.isNaN(n) && n !== 0;
}

const SHOWN_SERIES = 3;

function describeSeries(series: ReadonlyArray<{ metric: Record<string, string>; value: string }>): string {
  if (series.length === 0) return "no series";
  const shown = series.slice(0, SHOWN_SERIES).map((s) => `${formatMetric(s.metric)} ${s.value}`);
  const more = series.length > SHOWN_SERIES ? ", …" : "";
  return `${plural(series.length, "series", "series")}: ${shown.join(", ")}${more}`;
}

function formatMetric(metric: Record<string, string>): string {
  const { __name__: name, ...labels } = metric;
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const text = `${name ?? ""}{${pairs.join(", ")}}`;
  return text.length > 160 ? `${text.slice(0, 157)}…}` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === "string"));
}

function lastOf(value: unknown): unknown {
  return Array.isArray(value) ? value[value.length - 1] : undefined;
}

/** `[timestamp, "value"]` → `"value"`. */
function lastValue(pair: unknown): string {
  if (Array.isArray(pair) && typeof pair[1] === "string") return pair[1];
  return "?";
}
