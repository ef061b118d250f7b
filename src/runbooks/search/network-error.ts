import { errorMessage } from "../../errors.ts";

/**
 * The useful part of a failed fetch: Node's fetch throws "fetch failed" and hides the reason
 * (ECONNREFUSED, ENOTFOUND, a blocked port) in `cause`, sometimes inside an AggregateError when
 * both IPv4 and IPv6 were tried.
 */
export function networkReason(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause as { code?: unknown; message?: unknown; errors?: unknown } | undefined;
  if (typeof cause?.code === "string") return cause.code;
  if (Array.isArray(cause?.errors)) {
    const codes = (cause.errors as { code?: unknown }[]).map((e) => e?.code).filter((c): c is string => typeof c === "string");
    if (codes.length > 0) return [...new Set(codes)].join(", ");
  }
  if (typeof cause?.message === "string" && cause.message.length > 0) return cause.message;
  return errorMessage(error);
}
