/**
 * An error the fake answers with, shaped like the Bot API's error replies: the HTTP status equals
 * `errorCode`, and `retryAfter` travels in `parameters.retry_after`.
 */
export class ApiError extends Error {
  readonly errorCode: number;
  readonly description: string;
  readonly retryAfter: number | undefined;

  constructor(errorCode: number, description: string, retryAfter?: number) {
    super(description);
    this.name = "ApiError";
    this.errorCode = errorCode;
    this.description = description;
    this.retryAfter = retryAfter;
  }
}

export function badRequest(reason: string): ApiError {
  return new ApiError(400, `Bad Request: ${reason}`);
}
