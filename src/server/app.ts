import { randomUUID } from "node:crypto";
import { Hono, type Handler } from "hono";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { withTimeout } from "../util/with-timeout.ts";
import { errorHandler } from "./errors.ts";
import { hookRoutes, type HookDeps } from "./hooks.ts";

export interface AppDeps {
  logger: Logger;
  metrics: Metrics;
  /** Absent in a worker process, which serves only health and metrics. */
  hooks?: HookDeps;
  /** Each check resolves when the dependency answers; a rejection makes /readyz fail with its reason. */
  readiness: Record<string, () => Promise<unknown>>;
  /** Refreshes gauges (queue depths, outbox) right before /metrics is scraped. */
  beforeScrape?: () => Promise<void>;
  /** grammY's webhook handler, when the bot runs in webhook mode. */
  telegramWebhook?: Handler;
}

export function createApp(deps: AppDeps) {
  const app = new Hono();
  app.onError(errorHandler(deps.logger));
  app.notFound((c) => c.json({ error: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }, 404));

  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    if (c.req.path !== "/healthz" && c.req.path !== "/metrics") {
      deps.logger.debug({ req: randomUUID().slice(0, 8), method: c.req.method, path: c.req.path, status: c.res.status, ms }, "request");
    }
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/readyz", async (c) => {
    const results = await Promise.all(
      Object.entries(deps.readiness).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2000, `${name} did not answer within 2 s`);
          return [name, "ok"] as const;
        } catch (error) {
          return [name, error instanceof Error ? error.message : String(error)] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const ready = results.every(([, r]) => r === "ok");
    return c.json({ status: ready ? "ready" : "not ready", checks }, ready ? 200 : 503);
  });

  app.get("/metrics", async (c) => {
    await deps.beforeScrape?.().catch((error) => deps.logger.warn({ err: error }, "could not refresh gauges"));
    return c.text(await deps.metrics.registry.metrics(), 200, { "content-type": deps.metrics.registry.contentType });
  });

  if (deps.hooks) app.route("/hooks", hookRoutes(deps.hooks));
  if (deps.telegramWebhook) app.post("/telegram", deps.telegramWebhook);
  return app;
}
