import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCallbackCodec } from "../../src/telegram/callback-data.ts";
import { createHash } from "node:crypto";
import { anna, bob, eve, alertBody, buttons, cardIn, press, pressData, say, startApprovalsService, type Target } from "../helpers/approvals.ts";
import { settled, waitFor, type TestService } from "../helpers/service.ts";

let t: TestService;
let target: Target;
let stop: () => Promise<void>;

beforeAll(async () => {
  // Standard after 5 clean runs (instead of 15) so the test climbs the whole ladder.
  ({ t, target, stop } = await startApprovalsService({ TRUST_THRESHOLDS: "standardMinWilsonLower=0.5" }));
});
afterAll(() => stop?.());

const inbox = () => t.fake.topics().find((x) => x.name === "📥 Inbox")!.threadId;
const cardFor = (app: string) => cardIn(t, inbox(), app);
const repliesTo = (messageId: number) => t.fake.messages(undefined, inbox()).filter((m) => m.fromBot && m.replyToMessageId === messageId);
const level = async () => (await t.db.sql<{ level: string }[]>`select level from runbooks where id = 'restart-app'`)[0]!.level;

async function fire(app: string, alertname = "AppDown", labels: Record<string, string> = {}) {
  const response = await t.hook("/hooks/alertmanager", alertBody(alertname, app, labels));
  expect(response.status).toBe(200);
  return waitFor(() => {
    const card = cardFor(app);
    return card && buttons(card).length > 0 ? card : undefined;
  }, () => t.fake.messages(undefined, inbox()).map((m) => m.text.slice(0, 80)));
}

/** Waits for the run's result message under the card, and for the card to show the outcome. */
async function outcome(app: string, word: "succeeded" | "failed") {
  const card = await waitFor(() => cardFor(app));
  const result = await waitFor(
    () => repliesTo(card.messageId).find((m) => m.text.includes(` ${word} in `)),
    async () => ({
      replies: repliesTo(card.messageId).map((m) => m.text),
      card: t.fake.message(card.messageId)?.text,
      proposals: await t.db.sql`select id, status, level, params from proposals order by id desc limit 2`,
      runs: await t.db.sql`select id, status, trigger from executions order by id desc limit 2`,
      level: await level(),
    }),
  );
  await waitFor(() => t.fake.message(card.messageId)!.text.includes(word === "succeeded" ? "✅ Restart the app" : "❌ Restart the app"));
  return result;
}

describe("the approval loop, end to end", () => {
  it("a card offers the runbook with the buttons its level calls for", async () => {
    const card = await fire("radarr");
    expect(card.text).toContain("▶️ Proposed: Restart the app through its API · manual: approve, then confirm");
    expect(card.text).toContain(`POST ${target.url}/restart/radarr`);
    expect(buttons(card).map((b) => b.text)).toEqual(["▶️ Approve", "✖ Ignore", "✏️ Modify"]);
  });

  it("a stranger's press is refused politely and recorded; nothing changes", async () => {
    const card = cardFor("radarr")!;
    const answer = await press(t, eve, card, "▶️ Approve");
    expect(answer).toMatchObject({ showAlert: true, text: expect.stringContaining("Only approvers can do that") });
    const [row] = await t.db.sql<{ actor_id: number; action: string }[]>`select actor_id, action from audit_log order by id desc limit 1`;
    expect(row).toEqual({ actor_id: eve.id, action: "refused" });
    expect(await t.db.sql`select id from executions`).toHaveLength(0);
  });

  it("manual: approve, then confirm; the run calls the target, runs a real command, reports in the thread", async () => {
    const card = cardFor("radarr")!;
    expect((await press(t, anna, card, "▶️ Approve")).text).toContain("tap Confirm");
    await waitFor(() => buttons(t.fake.message(card.messageId)).some((b) => b.text.startsWith("✅ Confirm")));
    expect(t.fake.message(card.messageId)!.text).toContain("Anna (@apetrova) approved Restart the app through its API; confirm to run it.");
    expect((await press(t, anna, t.fake.message(card.messageId)!, "✅ Confirm")).text).toContain("Running");
    const result = await outcome("radarr", "succeeded");
    expect(result.text).toContain("(approved by Anna (@apetrova))");
    expect(result.text).toContain(`1. POST ${target.url}/restart/radarr`);
    expect(result.text).toContain("restarted radarr");
    expect(target.requests.filter((r) => r.path === "/restart/radarr")).toEqual([{ method: "POST", path: "/restart/radarr", apiKey: "app-key-0123456789" }]);
    // The secret reached the app and nowhere else.
    expect(JSON.stringify(await t.db.sql`select * from executions`)).not.toContain("app-key-0123456789");
    expect(t.fake.messages().some((m) => m.text.includes("app-key-0123456789"))).toBe(false);
    expect(buttons(t.fake.message(card.messageId)).map((b) => b.text)).not.toContain("▶️ Approve");
  });

  it("after three clean approved runs the runbook is promoted to prompted, announced in the thread", async () => {
    for (const app of ["sonarr", "lidarr"]) {
      const card = await fire(app);
      await press(t, bob, card, "▶️ Approve");
      await waitFor(() => buttons(t.fake.message(card.messageId)).some((b) => b.text.startsWith("✅ Confirm")));
      await press(t, bob, t.fake.message(card.messageId)!, "✅ Confirm");
      await outcome(app, "succeeded");
    }
    await waitFor(async () => (await level()) === "prompted");
    const announcement = await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.text.includes("manual → prompted")));
    expect(announcement.text).toContain("promoted to prompted: 3 approved runs");
    const [change] = await t.db.sql<{ from_level: string; to_level: string; stats: { approvedRuns: number } }[]>`select * from level_changes`;
    expect(change).toMatchObject({ from_level: "manual", to_level: "prompted", stats: { approvedRuns: 3 } });
  });

  it("prompted: one tap runs it; two approvers tapping at once and a redelivered press still run it once", async () => {
    const card = await fire("readarr");
    expect(card.text).toContain("prompted: one tap runs it");
    const approve = buttons(card).find((b) => b.text === "▶️ Approve")!.callback_data;
    const [a, b] = await Promise.all([pressData(t, anna, card.messageId, approve), pressData(t, bob, card.messageId, approve)]);
    expect([a.text, b.text].filter((x) => x?.startsWith("Running"))).toHaveLength(1);
    expect([a.text, b.text].filter((x) => x?.startsWith("Already approved"))).toHaveLength(1);
    // Telegram redelivers an update it thinks was lost: the same update_id is handled once.
    const update = t.fake.callbackQuery({ from: anna, messageId: card.messageId, data: approve });
    const { postUpdate } = await import("../helpers/approvals.ts");
    await postUpdate(t, update);
    await postUpdate(t, update);
    await outcome("readarr", "succeeded");
    await settled(t);
    const runs = await t.db.sql`select e.id from executions e join proposals p on p.id = e.proposal_id where p.params->>'app' = 'readarr'`;
    expect(runs).toHaveLength(1);
    expect(target.requests.filter((r) => r.path === "/restart/readarr")).toHaveLength(1);
  });

  it("after five clean runs it is standard: the next alert is handled at once, reported with a Demote button", async () => {
    const card = await fire("bazarr");
    await press(t, anna, card, "▶️ Approve");
    await outcome("bazarr", "succeeded");
    await waitFor(async () => (await level()) === "standard", async () => ({
      level: await level(),
      runs: await t.db.sql`select id, status, trigger, finished_at from executions order by id`,
      changes: await t.db.sql`select from_level, to_level, reason from level_changes`,
    }));
    const auto = await fire("prowlarr").catch(() => undefined);
    const prowlarr = auto ?? (await waitFor(() => cardFor("prowlarr")));
    await outcome("prowlarr", "succeeded");
    const shown = await waitFor(() => {
      const m = t.fake.message(prowlarr.messageId);
      return m?.text.includes("succeeded, on its own (standard)") ? m : undefined;
    });
    expect(buttons(shown).map((b) => b.text)).toContain("⬇️ Demote to manual");
    const [decision] = await t.db.sql<{ action: string; outcome: string }[]>`
      select d.action, d.outcome from decisions d join proposals p on p.id = d.proposal_id where p.params->>'app' = 'prowlarr'`;
    expect(decision).toEqual({ action: "auto", outcome: "succeeded" });
  });

  it("a failed unattended run demotes it to prompted at once, announced", async () => {
    target.failRestarts = true;
    await t.hook("/hooks/alertmanager", alertBody("AppDown", "jellyfin"));
    const failed = await outcome("jellyfin", "failed");
    expect(failed.text).toContain("expected 202");
    target.failRestarts = false;
    await waitFor(async () => (await level()) === "prompted");
    const announcement = await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.text.includes("standard → prompted")));
    expect(announcement.text).toContain("demoted to prompted");
  });

  it("a person demotes it from a result card", async () => {
    const prowlarr = cardFor("prowlarr")!;
    expect((await press(t, bob, t.fake.message(prowlarr.messageId)!, "⬇️ Demote")).text).toContain("manual again");
    expect(await level()).toBe("manual");
    const announcement = await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.text.includes("prompted → manual (demoted to manual by Bob")));
    expect(announcement.replyToMessageId).toBe(prowlarr.messageId);
  });
});

describe("what must never happen", () => {
  it("a label crafted to inject a command never reaches a process: the card says which value is refused", async () => {
    const card = await fire("x; rm -rf /");
    expect(card.text).toContain('param "app"');
    expect(card.text).toContain("use Modify to fill it in");
    expect(buttons(card).map((b) => b.text)).toEqual(["✏️ Modify", "✖ Ignore"]);
    const sub = await fire("$(id)");
    expect(buttons(sub).map((b) => b.text)).not.toContain("▶️ Approve");
    expect(target.requests.some((r) => r.path.includes("rm") || r.path.includes("id)"))).toBe(false);
  });

  it("Modify asks for the value, refuses one that breaks the pattern, and puts the new plan on the card", async () => {
    const card = cardFor("x; rm -rf /")!;
    await press(t, anna, card, "✏️ Modify");
    await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.fromBot && m.text.startsWith("app — Which app to restart.")));
    await say(t, anna, "$(id)", inbox());
    await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.fromBot && m.text.startsWith("❌") && m.text.includes('param "app"')));
    // Someone else talking in the topic meanwhile does not answer Anna's question.
    await say(t, bob, "looking at it too", inbox());
    await say(t, anna, "emby", inbox());
    await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.text.includes("The card now shows the modified plan (app = emby)")));
    const updated = await waitFor(() => {
      const m = t.fake.message(card.messageId);
      return m && m.text.includes("/restart/emby") ? m : undefined;
    });
    // Back to manual after the demotion: approve, confirm, and it runs with the new value.
    await press(t, anna, updated, "▶️ Approve");
    await waitFor(() => buttons(t.fake.message(card.messageId)).some((b) => b.text.startsWith("✅ Confirm")));
    await press(t, anna, t.fake.message(card.messageId)!, "✅ Confirm");
    await waitFor(() => target.requests.some((r) => r.path === "/restart/emby"));
    const [decision] = await t.db.sql<{ actor_name: string; params: Record<string, string> }[]>`select actor_name, params from decisions where action = 'modified'`;
    expect(decision).toEqual({ actor_name: "Anna (@apetrova)", params: { app: "emby" } });
    // Searchable like every other decision on the alert: with its summary.
    const [both] = await t.db.sql<{ modified: string | null; confirmed: string | null }[]>`
      select m.summary as modified, c.summary as confirmed
      from decisions m join decisions c on c.proposal_id = m.proposal_id and c.action = 'confirmed'
      where m.action = 'modified'`;
    expect(both!.modified).not.toBeNull();
    expect(both!.modified).toBe(both!.confirmed);
  });

  it("high risk needs a second, different approver", async () => {
    const card = await fire("plex", "AppNodeBroken");
    expect(card.text).toContain("high risk: two approvers");
    expect((await press(t, anna, card, "▶️ Approve")).text).toContain("second, different approver");
    await waitFor(() => buttons(t.fake.message(card.messageId)).some((b) => b.text.startsWith("✅ Second approval")));
    const again = await press(t, anna, t.fake.message(card.messageId)!, "✅ Second approval");
    expect(again).toMatchObject({ showAlert: true, text: expect.stringContaining("second, different approver") });
    expect(await t.db.sql`select id from executions where runbook_id = 'drain-app'`).toHaveLength(0);
    expect((await press(t, bob, t.fake.message(card.messageId)!, "✅ Second approval")).text).toContain("Second approval recorded");
    await waitFor(() => repliesTo(card.messageId).find((m) => m.text.includes("succeeded") && m.text.includes("Anna (@apetrova) and Bob (@bob_ops)")));
  });

  it("a stale button is refused, and the keyboard goes", async () => {
    const card = await fire("tautulli");
    const codec = createCallbackCodec(createHash("sha256").update(`topicops-buttons:${t.fake.token}`).digest("hex"));
    const [proposal] = await t.db.sql<{ id: number }[]>`select id from proposals where params->>'app' = 'tautulli'`;
    const expired = codec.encode("ap", [proposal!.id], { expiresAt: new Date(Date.now() - 60_000) });
    expect(await pressData(t, anna, card.messageId, expired)).toMatchObject({ text: "This button has expired.", showAlert: true });
    await waitFor(() => buttons(t.fake.message(card.messageId)).length === 0);
    expect(t.fake.message(card.messageId)!.text).toContain("⌛ The proposal to run Restart the app through its API expired.");
    const forged = `ap:${proposal!.id}:zzz:AAAAAAAAAA`;
    expect((await pressData(t, anna, card.messageId, forged)).text).toContain("not known");
    expect(await t.db.sql`select e.id from executions e join proposals p on p.id = e.proposal_id where p.params->>'app' = 'tautulli'`).toHaveLength(0);
  });

  it("a run cut off by a crash is marked interrupted, never run twice", async () => {
    const card = await fire("overseerr");
    await press(t, anna, card, "▶️ Approve");
    await press(t, anna, (await waitFor(() => (buttons(t.fake.message(card.messageId)).some((b) => b.text.startsWith("✅ Confirm")) ? t.fake.message(card.messageId) : undefined)))!, "✅ Confirm");
    await outcome("overseerr", "succeeded");
    // As if the worker had died half-way: the row says running, and BullMQ hands the job out again.
    const [run] = await t.db.sql<{ id: number }[]>`
      update executions set status = 'running', finished_at = null
      where proposal_id = (select id from proposals where params->>'app' = 'overseerr') returning id`;
    const before = target.requests.filter((r) => r.path === "/restart/overseerr").length;
    await t.service.queues.executions.add("execute", { executionId: run!.id }, { jobId: `exec-${run!.id}-again` });
    await waitFor(async () => (await t.db.sql<{ status: string }[]>`select status from executions where id = ${run!.id}`)[0]!.status === "interrupted");
    expect(target.requests.filter((r) => r.path === "/restart/overseerr").length).toBe(before);
  });
});

describe("the ladder in the group", () => {
  it("/trust shows the ladder; an approver promotes by hand with a reason", async () => {
    await say(t, anna, "/trust", inbox());
    const menu = await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.text.startsWith("🪜 Trust ladder")));
    expect(menu.text).toContain("2 runbooks");
    await press(t, anna, menu, "🟡 restart-app");
    const details = await waitFor(() => (t.fake.message(menu.messageId)!.text.includes("Runs:") ? t.fake.message(menu.messageId) : undefined));
    expect(details!.text).toMatch(/Runs: \d+ \(\d+ approved, \d+ on its own\)/);
    expect(details!.text).toMatch(/Success \d+ % · 90 % confident it succeeds at least \d+ % of the time/);
    expect(details!.text).toContain("Level changes:");
    expect((await press(t, eve, details!, "⬆️ Promote")).text).toContain("Only approvers");
    await press(t, anna, details!, "⬆️ Promote");
    await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.text.startsWith("Why promote restart-app to prompted?")));
    await say(t, anna, "it has been fine for weeks", inbox());
    await waitFor(async () => (await level()) === "prompted");
    const [change] = await t.db.sql<{ reason: string; actor_name: string }[]>`select reason, actor_name from level_changes order by id desc limit 1`;
    expect(change).toEqual({ reason: "it has been fine for weeks", actor_name: "Anna (@apetrova)" });
  });

  it("/lockdown sends every runbook back to manual and stops unattended runs; /lockdown off does not restore levels", async () => {
    await t.db.sql`update runbooks set level = 'standard' where id = 'restart-app'`;
    await say(t, eve, "/lockdown", inbox());
    await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.text === "Only approvers can lock down or lift a lockdown."));
    expect(await level()).toBe("standard");
    await say(t, bob, "/lockdown", inbox());
    await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.text.startsWith("🔒 Lockdown: 1 runbook back to manual (restart-app)")));
    expect(await level()).toBe("manual");
    const card = await fire("whisparr");
    expect(card.text).toContain("manual: approve, then confirm");
    expect(await t.db.sql`select e.id from executions e join proposals p on p.id = e.proposal_id where p.params->>'app' = 'whisparr'`).toHaveLength(0);
    await say(t, bob, "/lockdown off", inbox());
    await waitFor(() => t.fake.messages(undefined, inbox()).find((m) => m.text.startsWith("🔓 Lockdown lifted")));
    expect(await level()).toBe("manual");
  });
});

describe("secrets stay secret", () => {
  it("no token or runbook secret is in any table, any queued job, or any message", async () => {
    const secrets = [t.fake.token, t.env.HOOK_TOKEN!, t.env.TELEGRAM_WEBHOOK_SECRET!, "app-key-0123456789"];
    const tables = await t.db.sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`;
    expect(tables.length).toBeGreaterThan(10);
    for (const { table_name } of tables) {
      const [row] = await t.db.sql<{ dump: string | null }[]>`select string_agg(row_to_json(x)::text, '') as dump from ${t.db.sql(table_name)} x`;
      for (const secret of secrets) expect(row!.dump ?? "", `${table_name} holds a secret`).not.toContain(secret);
    }
    const { Redis } = await import("ioredis");
    const redis = new Redis(t.env.REDIS_URL!);
    try {
      const keys = await redis.keys(`${t.env.QUEUE_PREFIX}:*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        const type = await redis.type(key);
        const dump = type === "hash" ? JSON.stringify(await redis.hgetall(key)) : type === "string" ? ((await redis.get(key)) ?? "") : "";
        for (const secret of secrets) expect(dump, `${key} holds a secret`).not.toContain(secret);
      }
    } finally {
      await redis.quit();
    }
    for (const message of t.fake.messages()) for (const secret of secrets) expect(message.text).not.toContain(secret);
  });
});
