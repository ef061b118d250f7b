import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIngestStore } from "../../src/ingest/store.ts";
import { createLexicalEmbedder } from "../../src/runbooks/search/embedder.ts";
import { parseAlertmanager } from "../../src/sources/alertmanager.ts";
import { fixture } from "../helpers/shared.ts";
import { settled, startTestService, waitFor, type TestService } from "../helpers/service.ts";

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
  await waitFor(() => t.fake.topics().length >= 8);
});
afterAll(() => t?.stop());

describe("the sweep", () => {
  it("finds a delivery that was stored but never enqueued (Redis was down) and gets its card out", async () => {
    // Store exactly as the web process does, but skip the enqueue, as if Redis had refused it.
    const body = fixture("alertmanager/assembled-firing-pv-filling-up-am034-format.json");
    const stored = await createIngestStore(t.db.sql).storeAlertGroup({ source: "alertmanager", body }, parseAlertmanager(JSON.parse(body)));
    expect(stored.changed).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.fake.messages().some((m) => m.text.includes("KubePersistentVolumeFillingUp"))).toBe(false);
    await t.service.workers!.sweep();
    await settled(t);
    expect(t.fake.messages().filter((m) => m.text.includes("KubePersistentVolumeFillingUp"))).toHaveLength(1);
  });

  it("prunes raw deliveries past DELIVERY_RETENTION_DAYS and keeps the alerts they carried", async () => {
    await t.db.sql`update deliveries set received_at = now() - interval '31 days'`;
    const before = await t.db.sql<{ n: number }[]>`select count(*)::int as n from alerts where last_delivery_id is not null`;
    expect(before[0]!.n).toBeGreaterThan(0);
    await t.service.workers!.sweep();
    expect(await t.db.sql`select id from deliveries`).toHaveLength(0);
    const alerts = await t.db.sql<{ last_delivery_id: number | null }[]>`select last_delivery_id from alerts`;
    expect(alerts.length).toBe(before[0]!.n);
    expect(alerts.every((a) => a.last_delivery_id === null)).toBe(true);
  });

  it("gets a card out when Redis still holds a finished job under the group's id (the database was re-created)", async () => {
    const body = fixture("alertmanager/assembled-firing-pv-filling-up-am034-format.json");
    const cards = () => t.fake.messages().filter((m) => m.text.includes("KubePersistentVolumeFillingUp"));
    expect(cards()).toHaveLength(1);
    const [first] = await t.db.sql<{ id: number; version: number }[]>`select id, version from alert_groups order by id limit 1`;
    expect(await t.service.queues.signals.getJobState(`g-${first!.id}-v${first!.version}`)).toBe("completed");
    // A new, empty database behind the same Redis: ids start again at 1.
    await t.db.sql`truncate alert_groups, alerts, alert_events, cards, outbox, deliveries restart identity cascade`;
    const res = await t.hook("/hooks/alertmanager", body);
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(cards()).toHaveLength(1);
    // The sweep only looks at groups behind for a while; this one is made to look it.
    await t.db.sql`update alert_groups set updated_at = now() - interval '1 minute'`;
    await t.service.workers!.sweep();
    await settled(t);
    expect(cards()).toHaveLength(2);
    const [group] = await t.db.sql<{ behind: boolean }[]>`select processed_version < version as behind from alert_groups`;
    expect(group!.behind).toBe(false);
  });

  it("makes a decision searchable, again once its run has an outcome, and again for a new embedder", async () => {
    const runbooks = await waitFor(() => t.service.runbooks());
    const crash = { alertname: "KubePodCrashLooping", labels: { namespace: "media", pod: "radarr-0" }, annotations: { summary: "Pod is crash looping." } };
    // Approved: the decision is written at once, its outcome only when the run ends (minutes later).
    const [d] = await t.db.sql<{ id: number }[]>`
      insert into decisions (alertname, labels, summary, runbook_id, level, action, actor_name)
      values (${crash.alertname}, ${t.db.sql.json(crash.labels)}, ${crash.annotations.summary}, 'restart-crashlooping-pod', 'manual', 'approved', 'Anna')
      returning id`;
    const stored = async () => {
      const [doc] = await t.db.sql<{ embedder: string; outcome: string }[]>`
        select embedder, payload->>'outcome' as outcome from search_docs where id = ${`decision:${d!.id}`}`;
      return doc && { current: doc.embedder === createLexicalEmbedder().name, outcome: doc.outcome };
    };
    await t.service.workers!.sweep();
    expect(await stored()).toEqual({ current: true, outcome: "" });
    expect((await runbooks.suggest(crash)).lastTime?.text).toMatch(/ was approved \(\w+ \d+\)$/);

    await t.db.sql`update decisions set outcome = 'succeeded', outcome_at = now() where id = ${d!.id}`;
    await t.service.workers!.sweep();
    expect(await stored()).toEqual({ current: true, outcome: "succeeded" });
    expect((await runbooks.suggest(crash)).lastTime?.text).toMatch(/ was approved and worked \(\w+ \d+\)$/);

    // Embedded by another model (the deployment switched to Ollama and back): embedded again.
    await t.db.sql`update search_docs set embedder = 'ollama:nomic-embed-text' where id = ${`decision:${d!.id}`}`;
    await t.service.workers!.sweep();
    expect(await stored()).toEqual({ current: true, outcome: "succeeded" });
  });
});
