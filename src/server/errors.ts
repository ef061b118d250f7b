import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";

/** The one place errors become HTTP answers: a JSON body with a code and a reason a sender can act on. */
export function errorHandler(logger: Logger) {
  return (error: Error, c: Context) => {
    if (error instanceof AppError) {
      if (error.httpStatus >= 500) logger.error({ err: error, path: c.req.path }, error.message);
      return c.json({ error: error.code, message: error.message }, error.httpStatus as never);
    }
    if (error instanceof HTTPException) return error.getResponse();
    logger.error({ err: error, path: c.req.path }, "unhandled error");
    return c.json({ error: "internal", message: "internal error; nothing was stored, please retry" }, 500);
  };
}
