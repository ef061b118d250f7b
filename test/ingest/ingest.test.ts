import { describe, expect, it } from "vitest";
import { createIngest, type IngestStore } from "../../src/ingest/index.ts";
import type { Queues } from "../../src/jobs/queues.ts";
import { createLogger } from "../../src/logger.ts";

/** A webhook as Alertmanager 0.2x sends it: nothing for the parser to fill in. */
const clean = {
  version: "4",
  groupKey: '{}:{alertname="DiskFull"}',
  status: "firing",
  receiver: "topicops",
  groupLabels: { alertname: "DiskFull" },
  commonLabels: { alertname: "DiskFull" },
  commonAnnotations: {},
  externalURL: "http://alertmanager:9093",
  truncatedAlerts: 0,
  alerts: [
    {
      status: "firing",
      labels: { alertname: "DiskFull", instance: "db-1" },
      annotations: {},
      startsAt: "2024-05-01T10:00:00Z",
      endsAt: "0001-01-01T00:00:00Z",
      fingerprint: "0123456789abcdef",
    },
  ],
};

function setup(options: { changed?: boolean; addBulk?: () => Promise<unknown>; enqueueTimeoutMs?: number } = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: "info", destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  const store = {
    storeAlertGroup: async () => ({ deliveryId: 7, changed: options.changed ?? false, groups: [{ id: 1, version: 1 }], newAlerts: 0, resolvedAlerts: 0 }),
  } as unknown as IngestStore;
  const queues = { signals: { addBulk: options.addBulk ?? (async () => []) } } as unknown as Queues;
  const ingest = createIngest({ store, queues, logger, enqueueTimeoutMs: options.enqueueTimeoutMs });
  return { ingest, lines };
}

describe("ingest", () => {
  it("logs nothing for a delivery the parser took as sent", async () => {
    const { ingest, lines } = setup();
    await ingest.alertmanager({ body: JSON.stringify(clean) });
    expect(lines).toEqual([]);
  });

  it("logs a delivery's tolerated oddities once, with its source, group key and delivery id", async () => {
    const { ingest, lines } = setup();
    const { version: _version, ...rest } = clean;
    const odd = { ...rest, alerts: clean.alerts.map(({ fingerprint: _fingerprint, ...alert }) => alert) };
    await ingest.alertmanager({ body: JSON.stringify(odd) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: "info",
      msg: "accepted a delivery with tolerated oddities",
      source: "alertmanager",
      groupKey: clean.groupKey,
      deliveryId: 7,
      warnings: [
        "fingerprint missing in 1 of 1 alert (alerts[0]); computed from the labels as Alertmanager does",
        "version is missing; read as version 4",
      ],
    });
  });

  it("answers although Redis does not, and says the sweeper will enqueue", async () => {
    const { ingest, lines } = setup({ changed: true, addBulk: () => new Promise(() => {}), enqueueTimeoutMs: 20 });
    const result = await ingest.alertmanager({ body: JSON.stringify(clean) });
    expect(result).toMatchObject({ deliveryId: 7, changed: true, alerts: 1 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn", msg: "stored but not enqueued; the sweeper will pick it up", groups: [1] });
    expect((lines[0]!.err as { message: string }).message).toBe("enqueue took longer than 20 ms");
  });
});
