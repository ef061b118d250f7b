import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createIngestStore } from "../../src/ingest/store.ts";
import { parseAlertmanager } from "../../src/sources/alertmanager.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { fixture } from "../helpers/shared.ts";

const crash = "alertmanager/assembled-firing-kube-pod-crashlooping.json";
const crashResolved = "alertmanager/assembled-resolved-kube-pod-crashlooping.json";

let db: TestDatabase;
let store: ReturnType<typeof createIngestStore>;

const deliver = (body: string) => store.storeAlertGroup({ source: "alertmanager", body }, parseAlertmanager(JSON.parse(body)));

beforeAll(async () => {
  db = await createTestDatabase();
  store = createIngestStore(db.sql);
});
afterAll(() => db.drop());
beforeEach(async () => {
  await db.sql`truncate deliveries, alert_groups, alerts, alert_events, cards, outbox restart identity cascade`;
});

async function alertRows() {
  return db.sql<{ fingerprint: string; status: string; episode: number; ends_at: Date | null }[]>`
    select fingerprint, status, episode, ends_at from alerts order by fingerprint, starts_at`;
}

describe("storing Alertmanager deliveries", () => {
  it("stores the raw body, the group and each alert", async () => {
    const body = fixture(crash);
    const result = await deliver(body);
    expect(result).toMatchObject({ changed: true, newAlerts: 2, resolvedAlerts: 0, groups: [{ version: 1 }] });
    const [delivery] = await db.sql<{ body: string; changed: boolean; signal_count: number }[]>`select * from deliveries`;
    expect(delivery).toMatchObject({ body, changed: true, signal_count: 2 });
    const [group] = await db.sql<{ group_key: string; version: number; episode: number }[]>`select * from alert_groups`;
    expect(group).toMatchObject({ group_key: '{}:{alertname="KubePodCrashLooping", namespace="payments"}', version: 1, episode: 1 });
    expect((await alertRows()).map((a) => [a.fingerprint, a.status])).toEqual([
      ["bed80a6c8c212e9d", "firing"],
      ["e8fc9dabab75bb56", "firing"],
    ]);
  });

  it("a redelivery is recorded for audit but changes nothing", async () => {
    await deliver(fixture(crash));
    const again = await deliver(fixture(crash));
    expect(again).toMatchObject({ changed: false, newAlerts: 0, groups: [] });
    expect(await db.sql`select id from deliveries`).toHaveLength(2);
    expect(await alertRows()).toHaveLength(2);
    const [group] = await db.sql<{ version: number }[]>`select version from alert_groups`;
    expect(group!.version).toBe(1);
  });

  it("an HA pair delivering at the same moment yields one record per alert", async () => {
    const body = fixture(crash);
    const results = await Promise.all(Array.from({ length: 6 }, () => deliver(body)));
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(await alertRows()).toHaveLength(2);
    expect(await db.sql`select id from alert_groups`).toHaveLength(1);
  });

  it("resolves alerts, keeps their end time and writes the status history", async () => {
    await deliver(fixture(crash));
    const result = await deliver(fixture(crashResolved));
    expect(result).toMatchObject({ changed: true, resolvedAlerts: 2, newAlerts: 0 });
    const rows = await alertRows();
    expect(rows.map((a) => [a.status, a.ends_at?.toISOString()])).toEqual([
      ["resolved", "2025-11-18T10:12:42.345Z"],
      ["resolved", "2025-11-18T10:13:12.345Z"],
    ]);
    const events = await db.sql<{ status: string }[]>`select status from alert_events order by id`;
    expect(events.map((e) => e.status)).toEqual(["firing", "firing", "resolved", "resolved"]);
  });

  it("writes each changed alert's status, end time, annotations and versions, and leaves the others alone", async () => {
    await deliver(fixture(crash));
    const next = JSON.parse(fixture(crash));
    next.alerts[0] = { ...next.alerts[0], status: "resolved", endsAt: "2025-11-18T10:20:00.123456Z" };
    next.alerts[1] = { ...next.alerts[1], annotations: { ...next.alerts[1].annotations, description: "now with \"quotes\" and ünïcode" } };
    await deliver(JSON.stringify(next));
    const later = JSON.parse(JSON.stringify(next));
    later.alerts[1].annotations = { summary: "only this" };
    await deliver(JSON.stringify(later));
    const rows = await db.sql<
      { fingerprint: string; status: string; ends_at: Date | null; annotations: Record<string, string>; changed_version: number; last_delivery_id: number; moved: boolean }[]
    >`select fingerprint, status, ends_at, annotations, changed_version, last_delivery_id, updated_at > created_at as moved from alerts order by id`;
    expect(rows).toEqual([
      {
        fingerprint: rows[0]!.fingerprint,
        status: "resolved",
        ends_at: new Date("2025-11-18T10:20:00.123Z"),
        annotations: JSON.parse(fixture(crash)).alerts[0].annotations,
        changed_version: 2,
        last_delivery_id: 2,
        moved: true,
      },
      { fingerprint: rows[1]!.fingerprint, status: "firing", ends_at: null, annotations: { summary: "only this" }, changed_version: 3, last_delivery_id: 3, moved: true },
    ]);
    const events = await db.sql<{ alert_id: number; status: string; delivery_id: number }[]>`select alert_id, status, delivery_id from alert_events order by id`;
    expect(events).toEqual([
      { alert_id: 1, status: "firing", delivery_id: 1 },
      { alert_id: 2, status: "firing", delivery_id: 1 },
      { alert_id: 1, status: "resolved", delivery_id: 2 },
    ]);
  });

  it("a late retry of the firing notification does not revive a resolved alert", async () => {
    await deliver(fixture(crash));
    await deliver(fixture(crashResolved));
    const late = await deliver(fixture(crash));
    expect(late.changed).toBe(false);
    expect((await alertRows()).every((a) => a.status === "resolved")).toBe(true);
  });

  it("a re-fire after everything resolved opens a new episode (a new card)", async () => {
    await deliver(fixture(crash));
    await deliver(fixture(crashResolved));
    const refire = JSON.parse(fixture(crash));
    refire.alerts = [{ ...refire.alerts[0], startsAt: "2025-11-18T11:00:00.000Z" }];
    const result = await deliver(JSON.stringify(refire));
    expect(result).toMatchObject({ changed: true, newAlerts: 1 });
    const rows = await alertRows();
    expect(rows.map((a) => [a.fingerprint, a.status, a.episode])).toEqual([
      ["bed80a6c8c212e9d", "resolved", 1],
      ["bed80a6c8c212e9d", "firing", 2],
      ["e8fc9dabab75bb56", "resolved", 1],
    ]);
    const [group] = await db.sql<{ episode: number }[]>`select episode from alert_groups`;
    expect(group!.episode).toBe(2);
  });

  it("a new alert joining a group that still fires stays in the same episode", async () => {
    const first = JSON.parse(fixture(crash));
    first.alerts = [first.alerts[0]];
    await deliver(JSON.stringify(first));
    await deliver(fixture(crash));
    expect((await alertRows()).map((a) => a.episode)).toEqual([1, 1]);
  });

  it("handles a firing notification that carries a resolved alert (per-alert status wins)", async () => {
    await deliver(fixture("alertmanager/assembled-firing-partially-resolved-deployment-replicas.json"));
    const rows = await alertRows();
    expect(rows.map((a) => a.status).sort()).toEqual(["firing", "resolved"]);
    expect(new Set(rows.map((a) => a.episode))).toEqual(new Set([1]));
  });

  it("the same alert sent through two routes (two group keys) is one record", async () => {
    await deliver(fixture(crash));
    const other = JSON.parse(fixture(crash));
    other.groupKey = '{}/{severity="warning"}:{namespace="payments"}';
    const result = await deliver(JSON.stringify(other));
    expect(result.newAlerts).toBe(0);
    expect(await alertRows()).toHaveLength(2);
    expect(await db.sql`select id from alert_groups`).toHaveLength(2);
  });

  it("a resolve arriving through the other route still updates the alert and its own group", async () => {
    await deliver(fixture(crash));
    const other = JSON.parse(fixture(crashResolved));
    other.groupKey = '{}/{severity="warning"}:{namespace="payments"}';
    const result = await deliver(JSON.stringify(other));
    expect(result.resolvedAlerts).toBe(2);
    const groups = await db.sql<{ group_key: string; version: number }[]>`select group_key, version from alert_groups order by id`;
    // The alerts' own group moves on (its card must show the resolve); the second group is new.
    expect(groups.map((g) => g.version)).toEqual([2, 1]);
    expect(result.groups.map((g) => g.id).sort()).toEqual([1, 2]);
    // Marked with their own group's new version, so its worker re-renders their card.
    const alerts = await db.sql<{ group_id: number; changed_version: number; last_delivery_id: number }[]>`
      select group_id, changed_version, last_delivery_id from alerts order by id`;
    expect(alerts).toEqual([
      { group_id: 1, changed_version: 2, last_delivery_id: 2 },
      { group_id: 1, changed_version: 2, last_delivery_id: 2 },
    ]);
  });
});
