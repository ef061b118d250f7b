import type { IncomingMessage } from "node:http";
import { badRequest, type ApiError } from "./api-error.ts";

/**
 * Request parameters as Telegram accepts them: a JSON body (what grammY sends), a urlencoded or
 * multipart form, or the query string. Form and query values are strings, so every accessor
 * coerces the way the Bot API does (`"123"` is a number, `'{"inline_keyboard":…}'` is an object).
 */
export type Params = Record<string, unknown>;

export async function readParams(req: IncomingMessage, query: URLSearchParams): Promise<Params> {
  const params: Params = {};
  for (const [key, value] of query) params[key] = value;

  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  if (body.length === 0) return params;

  const contentType = (req.headers["content-type"] ?? "").toLowerCase();
  if (contentType.startsWith("application/json")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw badRequest("can't parse JSON encoded request parameters");
    }
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) Object.assign(params, parsed);
    return params;
  }
  if (contentType.startsWith("application/x-www-form-urlencoded")) {
    for (const [key, value] of new URLSearchParams(body.toString("utf8"))) params[key] = value;
    return params;
  }
  if (contentType.startsWith("multipart/form-data")) {
    const boundary = /boundary="?([^";]+)"?/i.exec(req.headers["content-type"] ?? "")?.[1];
    if (boundary) Object.assign(params, parseMultipart(body, boundary));
    return params;
  }
  return params;
}

// Only text fields matter to the methods the fake implements; file parts are noted, not kept.
function parseMultipart(body: Buffer, boundary: string): Params {
  const params: Params = {};
  const text = body.toString("latin1");
  for (const part of text.split(`--${boundary}`)) {
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd < 0) continue;
    const headers = part.slice(0, headerEnd);
    const name = /name="([^"]*)"/i.exec(headers)?.[1];
    if (!name) continue;
    const raw = part.slice(headerEnd + 4).replace(/\r\n$/, "");
    params[name] = /filename="/i.test(headers) ? "[file]" : Buffer.from(raw, "latin1").toString("utf8");
  }
  return params;
}

export function optString(params: Params, name: string): string | undefined {
  const value = params[name];
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

export function optInt(params: Params, name: string): number | undefined {
  const value = params[name];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^-?[0-9]+$/.test(value.trim())) return Number(value.trim());
  throw badRequest(`field "${name}" must be an Integer`);
}

export function optBool(params: Params, name: string): boolean | undefined {
  const value = params[name];
  if (value === undefined || value === null || value === "") return undefined;
  return value === true || value === 1 || value === "true" || value === "1" || value === "True";
}

/** An object/array parameter, given as JSON (grammY) or as a JSON-encoded string (forms). */
export function optJson(params: Params, name: string, what: string): unknown {
  const value = params[name];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "object") return value;
  if (typeof value === "string") {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw badRequest(`can't parse ${what} JSON object`);
    }
  }
  throw badRequest(`can't parse ${what} JSON object`);
}

/** `chat_id` as a number when it is one; `@username` stays a string. */
export function chatIdParam(params: Params): number | string | undefined {
  const value = params.chat_id;
  if (typeof value === "number") return value;
  if (typeof value === "string") {
    const trimmed = value.trim();
    if (/^-?[0-9]+$/.test(trimmed)) return Number(trimmed);
    return trimmed === "" ? undefined : trimmed;
  }
  return undefined;
}

export function requireInt(params: Params, name: string, missing: ApiError): number {
  const value = optInt(params, name);
  if (value === undefined) throw missing;
  return value;
}
