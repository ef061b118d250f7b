import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../errors.ts";
import type { Ingest } from "../ingest/index.ts";
import type { Metrics } from "../metrics.ts";

export interface HookDeps {
  hookToken: string;
  maxBytes: number;
  ingest: Ingest;
  metrics?: Metrics;
}

const sources = new Set(["alertmanager"]);

const outcomeOf = (status: number) =>
  status === 401
    ? "unauthorized"
    : status === 413
      ? "too_large"
      : status === 404
        ? "unknown_source"
        : status >= 500
          ? "error"
          : status >= 400
            ? "invalid"
            : "accepted";

/** POST /hooks/:source — thin: authenticate, bound the size, hand the raw body to ingest. */
export function hookRoutes(deps: HookDeps) {
  const app = new Hono<{ Variables: { outcome?: string } }>();
  app.use("/:source", async (c, next) => {
    await next();
    // The path is the sender's to choose: only known sources become label values.
    const source = c.req.path.split("/").pop() ?? "";
    deps.metrics?.deliveries.inc({ source: sources.has(source) ? source : "unknown", outcome: c.get("outcome") ?? outcomeOf(c.res.status) });
  });
  app.use(
    "/:source",
    bearerAuth({
      token: deps.hookToken,
      noAuthenticationHeader: { message: { error: "unauthorized", message: "missing Authorization: Bearer <HOOK_TOKEN> header" } },
      // Hono answers a malformed header with 400; for a sender it is the same as no token: 401.
      invalidAuthenticationHeader: {
        message: () =>
          new Response(JSON.stringify({ error: "unauthorized", message: "Authorization header must be: Bearer <HOOK_TOKEN>" }), {
            status: 401,
            headers: { "content-type": "application/json" },
          }),
      },
      invalidToken: { message: { error: "unauthorized", message: "wrong bearer token" } },
    }),
  );
  app.use(
    "/:source",
    bodyLimit({
      maxSize: deps.maxBytes,
      onError: () => {
        throw new AppError("payload_too_large", `body is larger than ${deps.maxBytes} bytes (HOOK_MAX_BYTES)`);
      },
    }),
  );
  app.post("/alertmanager", async (c) => {
    const result = await deps.ingest.alertmanager({
      body: await c.req.text(),
      contentType: c.req.header("content-type"),
      userAgent: c.req.header("user-agent"),
    });
    c.set("outcome", result.changed ? "accepted" : "duplicate");
    return c.json({ status: "stored", ...result });
  });
  app.post("/:source", (c) => {
    throw new AppError("not_found", `unknown source "${c.req.param("source")}"; this service accepts: ${[...sources].join(", ")}`);
  });
  return app;
}
