import { AppError, errorMessage } from "../errors.ts";
import { enqueueGroups, type Queues } from "../jobs/queues.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { parseAlertmanager } from "../sources/alertmanager.ts";
import { withTimeout } from "../util/with-timeout.ts";
import type { IngestStore } from "./store.ts";

export { createIngestStore, type IngestStore, type StoredDelivery } from "./store.ts";

export interface IngestDeps {
  store: IngestStore;
  queues: Queues;
  logger: Logger;
  metrics?: Metrics;
  /** How long the web process waits for Redis after storing; past it the sweeper catches up. */
  enqueueTimeoutMs?: number;
}

export interface RawDelivery {
  body: string;
  contentType?: string | undefined;
  userAgent?: string | undefined;
}

export interface IngestResult {
  deliveryId: number;
  alerts: number;
  changed: boolean;
  newAlerts: number;
  resolvedAlerts: number;
}

/**
 * The web side of the flow: validate, store, enqueue. The answer goes back only after the store
 * has committed; the enqueue is best effort on purpose (see the sweeper in jobs/workers.ts).
 */
export function createIngest(deps: IngestDeps) {
  const { store, queues, logger, metrics } = deps;

  async function enqueue(groups: { id: number; version: number }[]): Promise<void> {
    const timeout = deps.enqueueTimeoutMs ?? 2000;
    try {
      await withTimeout(enqueueGroups(queues, groups), timeout, `enqueue took longer than ${timeout} ms`);
    } catch (error) {
      logger.warn({ err: error, groups: groups.map((g) => g.id) }, "stored but not enqueued; the sweeper will pick it up");
    }
  }

  return {
    async alertmanager(raw: RawDelivery): Promise<IngestResult> {
      const started = performance.now();
      let json: unknown;
      try {
        json = JSON.parse(raw.body);
      } catch (error) {
        throw new AppError("invalid_payload", `body is not valid JSON: ${errorMessage(error)}`);
      }
      const group = parseAlertmanager(json);
      const stored = await store.storeAlertGroup({ source: "alertmanager", ...raw }, group);
      if (group.warnings.length > 0) {
        // What the parser filled in or ignored, one line per delivery; the delivery id finds the raw body.
        logger.info(
          { source: group.source, groupKey: group.groupKey, deliveryId: stored.deliveryId, warnings: group.warnings },
          "accepted a delivery with tolerated oddities",
        );
      }
      for (const a of group.alerts) metrics?.signals.inc({ source: "alertmanager", status: a.status });
      if (stored.changed) await enqueue(stored.groups);
      metrics?.ingestSeconds.observe({ source: "alertmanager" }, (performance.now() - started) / 1000);
      return {
        deliveryId: stored.deliveryId,
        alerts: group.alerts.length,
        changed: stored.changed,
        newAlerts: stored.newAlerts,
        resolvedAlerts: stored.resolvedAlerts,
      };
    },
  };
}

export type Ingest = ReturnType<typeof createIngest>;
