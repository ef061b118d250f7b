import type { HttpMethod } from "../runbooks/types.ts";
import type { OutputCapture } from "./output.ts";

/**
 * One HTTP request for an `http` step or check: bounded in time and in how much of the answer is
 * read, never following a redirect (the request may carry a secret in its headers, and a redirect
 * is the server choosing where that goes next).
 */

export interface HttpCallOptions {
  fetch: typeof fetch;
  method: HttpMethod;
  url: string;
  /** May hold secrets: sent, never returned or described. */
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Receives the response body for display. */
  capture?: OutputCapture;
  /** Also keep up to this many bytes of the body as text, for matching (`body_contains`, JSON). */
  keepBytes?: number;
  now: () => number;
}

export interface HttpCallResult {
  status: number | undefined;
  /** Where a 3xx answer pointed, without its query (which may carry a token). */
  redirectTo: string | undefined;
  /** Up to `keepBytes` of the body; `truncated` when there was more. */
  body: string;
  truncated: boolean;
  timedOut: boolean;
  cancelled: boolean;
  /** Why no (complete) answer came: a refused connection, an unknown host, a reset. */
  error: string | undefined;
  durationMs: number;
}

class TimeoutSignal extends Error {}

export async function httpCall(options: HttpCallOptions): Promise<HttpCallResult> {
  const started = options.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutSignal()), options.timeoutMs);
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });

  const result: HttpCallResult = {
    status: undefined,
    redirectTo: undefined,
    body: "",
    truncated: false,
    timedOut: false,
    cancelled: false,
    error: undefined,
    durationMs: 0,
  };
  try {
    const response = await options.fetch(options.url, {
      method: options.method,
      headers: options.headers,
      ...(options.body === undefined ? {} : { body: options.body }),
      redirect: "manual",
      signal: controller.signal,
    });
    result.status = response.status;
    if (response.status >= 300 && response.status < 400) result.redirectTo = redirectTarget(options.url, response.headers.get("location"));
    const kept = await readBody(response, options.keepBytes ?? 0, options.capture);
    result.body = kept.text;
    result.truncated = kept.truncated;
  } catch (error) {
    if (controller.signal.aborted) {
      if (controller.signal.reason instanceof TimeoutSignal) result.timedOut = true;
      else result.cancelled = true;
    } else {
      result.error = describeFetchError(error);
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
  result.durationMs = options.now() - started;
  return result;
}

async function readBody(response: Response, keepBytes: number, capture: OutputCapture | undefined): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: "", truncated: false };
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let truncated = false;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    capture?.write(chunk);
    if (keptBytes < keepBytes) {
      const take = Math.min(keepBytes - keptBytes, chunk.length);
      kept.push(chunk.subarray(0, take));
      keptBytes += take;
      if (take < chunk.length) truncated = true;
    } else if (chunk.length > 0) {
      truncated = true;
    }
  }
  return { text: Buffer.concat(kept).toString("utf8"), truncated };
}

function redirectTarget(from: string, location: string | null): string | undefined {
  if (!location) return undefined;
  try {
    const url = new URL(location, from);
    return `${url.origin}${url.pathname}`;
  } catch {
    return "an invalid location";
  }
}

/** undici reports "fetch failed" and hides the reason in `cause`: that reason is what a person needs. */
export function describeFetchError(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? (error.cause as NodeJS.ErrnoException) : undefined;
  const code = cause?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
      return "unknown host";
    case "EAI_AGAIN":
      return "host name lookup failed (temporary)";
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return "connection reset";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    default:
      break;
  }
  if (cause) return code ? `${cause.message} (${code})` : cause.message;
  return error instanceof Error ? error.message : String(error);
}
