import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** All metrics live in one registry per process, built in main.ts and handed to whoever counts. */
export interface Metrics {
  registry: Registry;
  deliveries: Counter<"source" | "outcome">;
  signals: Counter<"source" | "status">;
  telegramCalls: Counter<"method" | "result">;
  ingestSeconds: Histogram<"source">;
  queueDepth: Gauge<"queue" | "state">;
  outboxPending: Gauge<"chat">;
  cardsSent: Counter<"kind" | "op">;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "topicops_" });
  return {
    registry,
    deliveries: new Counter({
      name: "topicops_deliveries_total",
      help: "Webhook deliveries by source and outcome (accepted, duplicate, unauthorized, invalid, too_large, error)",
      labelNames: ["source", "outcome"],
      registers: [registry],
    }),
    signals: new Counter({
      name: "topicops_signals_total",
      help: "Alerts (and other signals) received, by source and status",
      labelNames: ["source", "status"],
      registers: [registry],
    }),
    telegramCalls: new Counter({
      name: "topicops_telegram_calls_total",
      help: "Telegram Bot API calls by method and result (ok, or the error code, or network)",
      labelNames: ["method", "result"],
      registers: [registry],
    }),
    ingestSeconds: new Histogram({
      name: "topicops_ingest_seconds",
      help: "Time to validate and store one webhook delivery",
      labelNames: ["source"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "topicops_queue_depth",
      help: "Jobs in each BullMQ queue by state",
      labelNames: ["queue", "state"],
      registers: [registry],
    }),
    outboxPending: new Gauge({
      name: "topicops_outbox_pending",
      help: "Telegram messages waiting to be sent or edited",
      labelNames: ["chat"],
      registers: [registry],
    }),
    cardsSent: new Counter({
      name: "topicops_cards_sent_total",
      help: "Cards brought up to date on Telegram, by kind and operation (send, edit)",
      labelNames: ["kind", "op"],
      registers: [registry],
    }),
  };
}
