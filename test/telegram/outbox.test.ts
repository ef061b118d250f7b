import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fixture } from "../helpers/shared.ts";
import { testRedisUrl } from "../helpers/redis.ts";
import { settled, startTestService, waitFor, type TestService } from "../helpers/service.ts";

let t: TestService;
let redis: Redis;

beforeAll(async () => {
  t = await startTestService({ env: { ROLLUP_THRESHOLD: "3" } });
  redis = new Redis(testRedisUrl);
  await waitFor(() => t.fake.topics().length >= 8);
});
afterAll(async () => {
  await redis?.quit();
  await t?.stop();
});
beforeEach(() => t.fake.clearFaults());

const apps = () => t.fake.topics().filter((x) => x.name === "📦 Apps");
const liveApps = () => apps().find((x) => !x.deleted && !x.closed);
const appsThread = () => liveApps()!.threadId;
const callsOf = (method: string) => t.fake.calls.filter((c) => c.method === method);

let seq = 0;
/** A one-alert group in the Apps topic (warning, namespaced), unique per call. */
function appAlert(status: "firing" | "resolved" = "firing", n = ++seq) {
  const body = JSON.parse(fixture("alertmanager/assembled-firing-kube-pod-crashlooping.json"));
  body.groupKey = `{}:{alertname="KubePodCrashLooping", namespace="ns-${n}"}`;
  body.groupLabels = { alertname: "KubePodCrashLooping", namespace: `ns-${n}` };
  body.status = status;
  body.alerts = [
    {
      ...body.alerts[0],
      status,
      labels: { ...body.alerts[0].labels, namespace: `ns-${n}` },
      fingerprint: n.toString(16).padStart(16, "a"),
      endsAt: status === "resolved" ? "2025-11-18T10:00:00.000Z" : "0001-01-01T00:00:00Z",
    },
  ];
  return { n, body: JSON.stringify(body) };
}

async function unblockTelegram() {
  await redis.del(`${t.env.QUEUE_PREFIX}:tg:blocked:${t.fake.chatId}`);
  await t.db.sql`update outbox set not_before = now()`;
}

describe("the outbound path", () => {
  it("a 429 with a short retry_after is waited out in place, and the chat is paused meanwhile", async () => {
    t.fake.fail("sendMessage", { errorCode: 429, description: "Too Many Requests: retry after 1", retryAfter: 1 });
    const before = callsOf("sendMessage").length;
    const { n, body } = appAlert();
    await t.hook("/hooks/alertmanager", body);
    const card = await waitFor(() => t.fake.messages(undefined, appsThread()).find((m) => m.text.includes(`ns-${n}`)));
    expect(card.text).toContain("FIRING");
    const sends = callsOf("sendMessage").slice(before);
    expect(sends.map((c) => c.ok)).toEqual([false, true]);
    expect(sends[1]!.at - sends[0]!.at).toBeGreaterThanOrEqual(1000);
  });

  it("a long retry_after is kept in Postgres (not in memory) and honoured by every sender", async () => {
    t.fake.fail("sendMessage", { errorCode: 429, description: "Too Many Requests: retry after 40", retryAfter: 40 });
    const { n, body } = appAlert();
    await t.hook("/hooks/alertmanager", body);
    const row = await waitFor(async () => {
      const [r] = await t.db.sql<{ last_error: string | null; wait: number }[]>`
        select last_error, extract(epoch from not_before - now())::float as wait from outbox`;
      return r?.last_error ? r : undefined;
    });
    expect(row.last_error).toContain("retry after 40");
    expect(row.wait).toBeGreaterThan(30);
    const blocked = Number(await redis.pttl(`${t.env.QUEUE_PREFIX}:tg:blocked:${t.fake.chatId}`));
    expect(blocked).toBeGreaterThan(30_000);
    expect(t.fake.messages(undefined, appsThread()).some((m) => m.text.includes(`ns-${n}`))).toBe(false);
    await unblockTelegram();
    await waitFor(() => t.fake.messages(undefined, appsThread()).some((m) => m.text.includes(`ns-${n}`)));
  });

  it("5xx and network errors are retried", async () => {
    t.fake.fail("sendMessage", { errorCode: 502, description: "Bad Gateway" });
    t.fake.fail("editMessageText", { network: true });
    const first = appAlert();
    await t.hook("/hooks/alertmanager", first.body);
    await waitFor(() => t.fake.messages(undefined, appsThread()).some((m) => m.text.includes(`ns-${first.n}`)));
    await t.hook("/hooks/alertmanager", appAlert("resolved", first.n).body);
    await waitFor(() => t.fake.messages(undefined, appsThread()).some((m) => m.text.includes(`ns-${first.n}`) && m.text.includes("RESOLVED")));
    expect(callsOf("editMessageText").filter((c) => !c.ok).length).toBeGreaterThanOrEqual(1);
  });

  it("a deleted topic is created again (once) and its cards are posted again, not lost", async () => {
    const old = appAlert();
    await t.hook("/hooks/alertmanager", old.body);
    const oldThread = appsThread();
    await waitFor(() => t.fake.messages(undefined, oldThread).some((m) => m.text.includes(`ns-${old.n}`)));
    t.fake.deleteTopic(oldThread);

    const fresh = appAlert();
    await t.hook("/hooks/alertmanager", fresh.body);
    await t.hook("/hooks/alertmanager", appAlert("resolved", old.n).body);
    await settled(t);
    const live = apps().filter((x) => !x.deleted);
    expect(live).toHaveLength(1);
    expect(live[0]!.threadId).not.toBe(oldThread);
    const texts = t.fake.messages(undefined, live[0]!.threadId).map((m) => m.text);
    expect(texts.some((x) => x.includes(`ns-${fresh.n}`) && x.includes("FIRING"))).toBe(true);
    expect(texts.some((x) => x.includes(`ns-${old.n}`) && x.includes("RESOLVED"))).toBe(true);
    const [row] = await t.db.sql<{ thread_id: number }[]>`select thread_id from topics where key = 'apps'`;
    expect(row!.thread_id).toBe(live[0]!.threadId);
  });

  it("a closed topic is reopened and the send retried", async () => {
    const thread = appsThread();
    t.fake.closeTopic(thread);
    const { n, body } = appAlert();
    await t.hook("/hooks/alertmanager", body);
    await waitFor(() => t.fake.messages(undefined, thread).some((m) => m.text.includes(`ns-${n}`)));
    expect(callsOf("reopenForumTopic").length).toBeGreaterThanOrEqual(1);
    expect(apps().find((x) => x.threadId === thread)!.closed).toBe(false);
  });

  it("a card someone deleted is posted again when it changes", async () => {
    const { n, body } = appAlert();
    await t.hook("/hooks/alertmanager", body);
    const card = await waitFor(() => t.fake.messages(undefined, appsThread()).find((m) => m.text.includes(`ns-${n}`)));
    t.fake.deleteMessage(card.messageId);
    await t.hook("/hooks/alertmanager", appAlert("resolved", n).body);
    const again = await waitFor(() => t.fake.messages(undefined, appsThread()).find((m) => m.text.includes(`ns-${n}`)));
    expect(again.messageId).not.toBe(card.messageId);
    expect(again.text).toContain("RESOLVED");
  });

  it("when sends back up, new cards for a topic become one rollup card that is then edited", async () => {
    await settled(t);
    const before = t.fake.messages(undefined, appsThread()).length;
    // Telegram pauses us for a while, as in a real storm.
    t.fake.fail("sendMessage", { errorCode: 429, description: "Too Many Requests: retry after 45", retryAfter: 45 });
    const storm = Array.from({ length: 12 }, () => appAlert());
    for (const a of storm) await t.hook("/hooks/alertmanager", a.body);
    await waitFor(async () => {
      const [r] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from cards where rollup_id is not null`;
      return r!.n === 12;
    }, async () => ({ groups: await t.db.sql`select id, group_key, version, processed_version from alert_groups order by id`, cards: await t.db.sql`select id, group_id, kind, rollup_id, message_id from cards order by id`, outbox: await t.db.sql`select * from outbox` }));
    await unblockTelegram();
    await settled(t);
    const added = t.fake.messages(undefined, appsThread()).slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]!.text).toContain("🌊 Alert storm · 12 alert groups");
    expect(added[0]!.text).toContain("🔥 12 firing · ✅ 0 resolved");
    expect(added[0]!.text).toContain("KubePodCrashLooping — 12 firing");

    // Members keep changing: the rollup is edited, not re-posted.
    await t.hook("/hooks/alertmanager", appAlert("resolved", storm[0]!.n).body);
    await t.hook("/hooks/alertmanager", appAlert("resolved", storm[1]!.n).body);
    await settled(t);
    const edited = t.fake.message(added[0]!.messageId)!;
    expect(edited.text).toContain("🔥 10 firing · ✅ 2 resolved");
    expect(t.fake.messages(undefined, appsThread()).slice(before)).toHaveLength(1);
  });
});
