/**
 * Errors are typed where they are born and mapped to HTTP statuses, Telegram replies or
 * BullMQ's UnrecoverableError only at the edges.
 */
export const errorCodes = [
  "unauthorized", // missing or wrong credentials
  "forbidden", // authenticated, but not allowed
  "invalid_payload", // a body we cannot accept, with a reason
  "payload_too_large",
  "unsupported_media_type",
  "not_found",
  "conflict",
  "config", // invalid configuration or config files
  "unavailable", // a dependency (Postgres, Redis, Telegram) is not reachable right now
  "telegram", // Telegram refused a call for a reason that retrying will not fix
  "internal",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

const httpStatus: Record<ErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  invalid_payload: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_found: 404,
  conflict: 409,
  config: 500,
  unavailable: 503,
  telegram: 502,
  internal: 500,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Extra structured detail, safe to show to the caller (never secrets). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.details = options?.details;
  }

  get httpStatus(): number {
    return httpStatus[this.code];
  }
}

export function isAppError(error: unknown, code?: ErrorCode): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
