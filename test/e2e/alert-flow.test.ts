import { Api } from "grammy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/shared.ts";
import { settled, startTestService, waitFor, type TestService } from "../helpers/service.ts";

let t: TestService;

beforeAll(async () => {
  t = await startTestService();
});
afterAll(() => t?.stop());

const topicThread = (name: string) => t.fake.topics().find((x) => x.name === name && !x.deleted)?.threadId;
const cardsIn = (name: string) => {
  const thread = topicThread(name);
  return thread === undefined ? [] : t.fake.messages(undefined, thread);
};

describe("an Alertmanager group, end to end through the fake Telegram", () => {
  it("creates the standing topics once", async () => {
    await waitFor(() => t.fake.topics().length >= 8, () => t.fake.topics());
    const names = t.fake.topics().map((x) => x.name);
    expect(names).toEqual(
      expect.arrayContaining(["🔥 Critical", "🏗️ Infrastructure", "📦 Apps", "🏠 Home Assistant", "⬆️ Updates", "🚀 Deployments", "📊 Weekly Reports", "📥 Inbox"]),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it("posts one card in the right topic, keeps it current, and a re-fire is a new card", async () => {
    const firing = await t.hook("/hooks/alertmanager", fixture("alertmanager/assembled-firing-kube-pod-crashlooping.json"));
    expect(firing.status).toBe(200);
    expect(await firing.json()).toMatchObject({ status: "stored", alerts: 2, changed: true });
    const card = await waitFor(() => cardsIn("📦 Apps")[0], () => t.fake.calls.map((c) => c.method));
    expect(card.text).toContain("🔥 FIRING · KubePodCrashLooping ×2 · warning");
    expect(card.entities.some((e) => e.type === "bold")).toBe(true);
    // The runbooks most like it, with level, score and why.
    expect(card.text).toContain("📚 Runbooks");
    expect(card.text).toContain("Delete a crash-looping pod so its controller recreates it · manual · 100% · written for KubePodCrashLooping");

    // Alertmanager retries, and an HA twin sends the same notification: nothing visible changes.
    const callsBefore = t.fake.calls.length;
    for (let i = 0; i < 3; i++) {
      const again = await t.hook("/hooks/alertmanager", fixture("alertmanager/assembled-firing-kube-pod-crashlooping.json"));
      expect(await again.json()).toMatchObject({ changed: false });
    }
    await settled(t);
    expect(t.fake.calls.length).toBe(callsBefore);

    await t.hook("/hooks/alertmanager", fixture("alertmanager/assembled-resolved-kube-pod-crashlooping.json"));
    const resolved = await waitFor(() => {
      const m = t.fake.message(card.messageId);
      return m && m.text.startsWith("✅ RESOLVED") ? m : undefined;
    });
    expect(resolved.text).toContain("✅ RESOLVED · KubePodCrashLooping ×2 · lasted 32m");
    // Nothing left to do once it resolved: the suggestions go.
    expect(resolved.text).not.toContain("📚");
    expect(resolved.edits).toBe(1);
    expect(cardsIn("📦 Apps")).toHaveLength(1);

    const refire = JSON.parse(fixture("alertmanager/assembled-firing-kube-pod-crashlooping.json"));
    refire.alerts = [{ ...refire.alerts[0], startsAt: "2025-11-18T15:00:00.000Z" }];
    await t.hook("/hooks/alertmanager", JSON.stringify(refire));
    await waitFor(() => cardsIn("📦 Apps").length === 2, () => cardsIn("📦 Apps").map((m) => m.text.slice(0, 60)));
    const [first, second] = cardsIn("📦 Apps");
    expect(first!.text).toContain("RESOLVED");
    expect(second!.text).toContain("🔥 FIRING · KubePodCrashLooping · warning");
  });

  it("routes by severity and labels", async () => {
    await t.hook("/hooks/alertmanager", fixture("alertmanager/assembled-firing-critical-node-filesystem.json"));
    await t.hook("/hooks/alertmanager", fixture("alertmanager/assembled-resolved-node-memory-high-utilization.json"));
    await settled(t);
    expect(cardsIn("🔥 Critical").map((m) => m.text.split("\n")[0])).toEqual(["🔥 FIRING · 2 alerts · critical"]);
    expect(cardsIn("🏗️ Infrastructure").map((m) => m.text.split("\n")[0])).toEqual([
      "✅ RESOLVED · NodeMemoryHighUtilization · lasted 42m",
    ]);
  });

  it("a card with no fitting runbook says so, and one posted before search was up gets its suggestions later", async () => {
    await t.hook("/hooks/alertmanager", fixture("alertmanager/verbatim-zulip-firing-2-alerts.json"));
    await settled(t);
    const card = cardsIn("🔥 Critical").find((m) => m.text.includes("High CPU Temperature"))!;
    expect(card.text).toContain("📚 No runbook fits this alert.");

    // As if the card had gone out while search was starting: no stored matches, a placeholder shown.
    const crash = cardsIn("📦 Apps").at(-1)!;
    await t.db.sql`delete from card_matches`;
    const [row] = await t.db.sql<{ text: string }[]>`
      update cards set text = split_part(text, '📚', 1) || '📚 Runbook search is starting; suggestions follow.', content_hash = 'starting'
      where message_id = ${crash.messageId} returning text`;
    await new Api(t.fake.token, { apiRoot: t.fake.apiRoot }).editMessageText(t.fake.chatId, crash.messageId, row!.text, { parse_mode: "HTML" });
    expect(t.fake.message(crash.messageId)!.text).not.toContain("📚 Runbooks");
    await t.service.workers!.sweep();
    await waitFor(async () => (await t.db.sql`select 1 from card_matches`).length >= 1);
    await settled(t);
    expect(t.fake.message(crash.messageId)!.text).toContain("📚 Runbooks");
  });

  it("/status lists what is firing", async () => {
    const { renderStatus } = await import("../../src/telegram/features/status.ts");
    const text = await renderStatus(t.db.sql, t.fake.chatId);
    expect(text).toContain("alerts firing");
    expect(text).toContain("KubePodCrashLooping ×1");
    expect(text).toContain("NodeFilesystemSpaceFillingUp ×1");
    expect(text).not.toContain("NodeMemoryHighUtilization");
  });
});
