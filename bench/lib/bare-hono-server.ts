/**
 * The ceiling for ingest: the service's HTTP stack (@hono/node-server + Hono, loaded through tsx
 * like bin/topicops.js) doing nothing but read the body and answer. Run as a child process by
 * bench/ingest.ts: `node bin/run-ts.js bench/lib/bare-hono-server.ts` with PORT set.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.post("/hooks/alertmanager", async (c) => {
  await c.req.text();
  return c.json({ status: "stored" });
});
app.get("/readyz", (c) => c.json({ status: "ready" }));

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: "127.0.0.1" });
const shutdown = () => server.close(() => process.exit(0));
process.once("SIGTERM", shutdown);
process.once("SIGINT", shutdown);
