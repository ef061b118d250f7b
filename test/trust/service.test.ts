import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockdown } from "../../src/trust/service.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

const bob = { id: 391827364, name: "Bob (@bob_ops)" };
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

async function runbook(id: string, level: string, extra: { pinned?: string; removed?: boolean } = {}): Promise<void> {
  await db.sql`
    insert into runbooks (id, file, title, kind, risk, content_hash, level, pinned_level, pinned_at, removed_at)
    values (${id}, ${`${id}.md`}, ${id}, 'runbook', 'low', 'hash', ${level}, ${extra.pinned ?? null}, ${extra.pinned ? new Date() : null},
            ${extra.removed ? new Date() : null})`;
}

describe("/lockdown", () => {
  it("sends every runbook above manual back to manual, unpinned, recorded, and refuses queued unattended runs", async () => {
    await runbook("b-standard", "standard", { pinned: "standard" });
    await runbook("a-prompted", "prompted");
    await runbook("c-manual", "manual", { pinned: "manual" });
    await runbook("d-removed", "standard", { removed: true });
    const [group] = await db.sql<{ id: number }[]>`
      insert into alert_groups (source, group_key, receiver, group_labels, common_labels, common_annotations)
      values ('alertmanager', 'g', 'topicops', '{}', '{}', '{}') returning id`;
    const [proposal] = await db.sql<{ id: number }[]>`
      insert into proposals (chat_id, group_id, episode, runbook_id, level, risk, params, fingerprint, alertname, status, expires_at)
      values (-100, ${group!.id}, 1, 'b-standard', 'standard', 'low', '{}', 'f', 'AppDown', 'approved', now() + interval '1 hour') returning id`;
    await db.sql`
      insert into executions (proposal_id, runbook_id, params, trigger, level, group_id, episode, fingerprint)
      values (${proposal!.id}, 'b-standard', '{}', 'auto', 'standard', ${group!.id}, 1, 'f')`;

    const result = await lockdown(db.sql, true, bob);
    expect(result.demoted).toEqual([
      { runbookId: "a-prompted", from: "prompted", to: "manual", reason: "lockdown by Bob (@bob_ops)" },
      { runbookId: "b-standard", from: "standard", to: "manual", reason: "lockdown by Bob (@bob_ops)" },
    ]);
    expect(await db.sql`select id, level, pinned_level, pinned_at is not null as pinned from runbooks order by id`).toEqual([
      { id: "a-prompted", level: "manual", pinned_level: null, pinned: false },
      { id: "b-standard", level: "manual", pinned_level: null, pinned: false },
      { id: "c-manual", level: "manual", pinned_level: "manual", pinned: true },
      { id: "d-removed", level: "standard", pinned_level: null, pinned: false },
    ]);
    expect(await db.sql`select runbook_id, from_level, to_level, reason, actor_id, actor_name, stats, execution_id from level_changes order by id`).toEqual([
      { runbook_id: "a-prompted", from_level: "prompted", to_level: "manual", reason: "lockdown by Bob (@bob_ops)", actor_id: bob.id, actor_name: bob.name, stats: null, execution_id: null },
      { runbook_id: "b-standard", from_level: "standard", to_level: "manual", reason: "lockdown by Bob (@bob_ops)", actor_id: bob.id, actor_name: bob.name, stats: null, execution_id: null },
    ]);
    expect(await db.sql`select status, error from executions`).toEqual([{ status: "refused", error: "lockdown" }]);
    expect(await db.sql`select actor_id, actor_name, action, target, detail from audit_log`).toEqual([
      { actor_id: bob.id, actor_name: bob.name, action: "lockdown-on", target: null, detail: {} },
    ]);
    expect(await db.sql`select value from settings where key = 'lockdown'`).toEqual([{ value: true }]);

    expect(await lockdown(db.sql, false, bob)).toEqual({ demoted: [] });
    expect(await db.sql`select value from settings where key = 'lockdown'`).toEqual([{ value: false }]);
    expect((await db.sql`select action from audit_log order by id`).map((r) => r.action)).toEqual(["lockdown-on", "lockdown-off"]);
    expect(await db.sql`select id from level_changes`).toHaveLength(2);
  });
});
