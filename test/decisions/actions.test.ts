import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDecisionActions } from "../../src/decisions/actions.ts";
import { asApprover } from "../../src/decisions/approvers.ts";
import { createLogger } from "../../src/logger.ts";
import { defaultThresholds } from "../../src/trust/policy.ts";
import { applyTrust, setLevelByHand } from "../../src/trust/service.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

const CHAT = -1001234567890;
const anna = { id: 284019371, name: "Anna (@apetrova)" };
const bob = { id: 391827364, name: "Bob (@bob_ops)" };

let db: TestDatabase;
let groupId: number;
let cardId: number;

beforeAll(async () => {
  db = await createTestDatabase();
  const [group] = await db.sql<{ id: number }[]>`
    insert into alert_groups (source, group_key, receiver, group_labels, common_labels, common_annotations)
    values ('alertmanager', '{}:{app="radarr"}', 'topicops', '{}', '{}', '{}') returning id`;
  groupId = group!.id;
  const [card] = await db.sql<{ id: number }[]>`
    insert into cards (chat_id, kind, topic_key, group_id, episode, text, content_hash)
    values (${CHAT}, 'alert', 'inbox', ${groupId}, 1, 'the card', 'hash') returning id`;
  cardId = card!.id;
});
afterAll(() => db?.drop());

async function runbook(id: string, level: string): Promise<void> {
  await db.sql`
    insert into runbooks (id, file, title, kind, risk, content_hash, level)
    values (${id}, ${`${id}.md`}, ${id}, 'runbook', 'low', 'hash', ${level})`;
}

/** A card's proposal for the runbook, and its run, finished as `status`. */
async function ran(runbookId: string, status: "succeeded" | "failed", trigger: "auto" | "approved"): Promise<{ proposalId: number; executionId: number }> {
  const [proposal] = await db.sql<{ id: number }[]>`
    insert into proposals (chat_id, group_id, episode, runbook_id, level, risk, params, fingerprint, alertname, status, expires_at)
    values (${CHAT}, ${groupId}, 1, ${runbookId}, 'standard', 'low', '{}', 'f1', 'AppDown', 'approved', now() + interval '1 hour')
    returning id`;
  const [execution] = await db.sql<{ id: number }[]>`
    insert into executions (proposal_id, runbook_id, params, trigger, level, group_id, episode, fingerprint, status, finished_at)
    values (${proposal!.id}, ${runbookId}, '{}', ${trigger}, 'standard', ${groupId}, 1, 'f1', ${status}, now())
    returning id`;
  return { proposalId: proposal!.id, executionId: execution!.id };
}

const state = async (id: string) =>
  (await db.sql<{ level: string; pinned_level: string | null }[]>`select level, pinned_level from runbooks where id = ${id}`)[0];

describe("Demote from a card", () => {
  it("pins the runbook at manual like /trust demote: a level pinned by hand earlier does not bring it back", async () => {
    await runbook("restart-app", "prompted");
    const actions = createDecisionActions({ sql: db.sql, chatId: CHAT, logger: createLogger({ level: "silent" }) });
    const set = await setLevelByHand(db.sql, { runbookId: "restart-app", to: "standard", reason: "fine for weeks", actorId: anna.id, actorName: anna.name, risk: "low" });
    expect(set).toMatchObject({ from: "prompted", to: "standard" });
    expect(await state("restart-app")).toEqual({ level: "standard", pinned_level: "standard" });

    const auto = await ran("restart-app", "succeeded", "auto");
    expect((await actions.demote(auto.proposalId, bob)).text).toBe("restart-app is manual again.");
    expect(await state("restart-app")).toEqual({ level: "manual", pinned_level: "manual" });
    const notices = await db.sql<{ text: string; topic_key: string; reply_to_card_id: number }[]>`
      select text, topic_key, reply_to_card_id from cards where kind = 'notice'`;
    expect(notices).toEqual([
      { text: `⬇️ restart-app: standard → manual (demoted to manual by Bob (@bob_ops) from the card)`, topic_key: "inbox", reply_to_card_id: cardId },
    ]);

    // The next run succeeds: the record alone would keep it moving, the person's Demote holds.
    const next = await ran("restart-app", "succeeded", "approved");
    const { change, evaluation } = await db.sql.begin((tx) => applyTrust(tx, "restart-app", "low", defaultThresholds, next.executionId));
    expect(change).toBeUndefined();
    expect(evaluation.level).toBe("manual");
    expect(await state("restart-app")).toEqual({ level: "manual", pinned_level: "manual" });

    const changes = await db.sql<{ from_level: string; to_level: string; reason: string; actor_name: string | null }[]>`
      select from_level, to_level, reason, actor_name from level_changes where runbook_id = 'restart-app' order by id`;
    expect(changes).toEqual([
      { from_level: "prompted", to_level: "standard", reason: "fine for weeks", actor_name: anna.name },
      { from_level: "standard", to_level: "manual", reason: `demoted to manual by ${bob.name} from the card`, actor_name: bob.name },
    ]);
  });

  it("says so when the runbook is manual already, and changes nothing", async () => {
    await runbook("delete-pod", "manual");
    const actions = createDecisionActions({ sql: db.sql, chatId: CHAT, logger: createLogger({ level: "silent" }) });
    const auto = await ran("delete-pod", "succeeded", "auto");
    expect(await actions.demote(auto.proposalId, bob)).toMatchObject({ text: "delete-pod is already manual.", executions: [] });
    expect(await state("delete-pod")).toEqual({ level: "manual", pinned_level: null });
    expect(await db.sql`select id from level_changes where runbook_id = 'delete-pod'`).toHaveLength(0);
  });
});

describe("a stale button", () => {
  it("expires what it offered while that is pending, and names the card either way", async () => {
    await runbook("stale-app", "manual");
    const actions = createDecisionActions({ sql: db.sql, chatId: CHAT, logger: createLogger({ level: "silent" }) });
    const [open] = await db.sql<{ id: number }[]>`
      insert into proposals (chat_id, group_id, episode, runbook_id, level, risk, params, fingerprint, alertname, status, expires_at)
      values (${CHAT}, ${groupId}, 1, 'stale-app', 'manual', 'low', '{}', 'f1', 'AppDown', 'confirming', now() - interval '1 minute')
      returning id`;
    expect(await actions.expire(open!.id)).toBe(groupId);
    const { proposalId: decided } = await ran("stale-app", "succeeded", "approved");
    expect(await actions.expire(decided)).toBe(groupId);
    const statuses = await db.sql<{ id: number; status: string }[]>`select id, status from proposals where id in ${db.sql([open!.id, decided])} order by id`;
    expect(statuses).toEqual([
      { id: open!.id, status: "expired" },
      { id: decided, status: "approved" },
    ]);
    expect(await actions.expire(999_999)).toBeUndefined();
  });
});

describe("what only approvers may do", () => {
  const approvers = { allowed: async (id: number) => id === bob.id };
  const user = (id: number, first_name: string, username: string) => ({ id, is_bot: false, first_name, username });

  it("an approver is the actor; anyone else is refused, audited and told", async () => {
    const told: string[] = [];
    const tell = async () => void told.push("told");
    expect(await asApprover({ sql: db.sql, approvers }, user(bob.id, "Bob", "bob_ops"), { target: "ap:1", tell })).toEqual(bob);
    expect(told).toEqual([]);
    const eve = user(666000666, "Eve", "eve");
    expect(await asApprover({ sql: db.sql, approvers }, eve, { target: "ap:1", detail: { reason: "not an approver" }, tell })).toBeUndefined();
    expect(await asApprover({ sql: db.sql, approvers }, undefined, { target: "lockdown", tell })).toBeUndefined();
    expect(told).toEqual(["told", "told"]);
    expect(await db.sql`select actor_id, actor_name, action, target, detail from audit_log where action = 'refused' order by id`).toEqual([
      { actor_id: eve.id, actor_name: "Eve (@eve)", action: "refused", target: "ap:1", detail: { reason: "not an approver" } },
      { actor_id: null, actor_name: null, action: "refused", target: "lockdown", detail: null },
    ]);
  });
});
