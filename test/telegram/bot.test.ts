import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/shared.ts";
import { settled, startTestService, waitFor, type TestService } from "../helpers/service.ts";
import { withTimeout } from "../../src/util/with-timeout.ts";

const SECRET = "webhook-secret_0123456789";
const anna = { id: 284019371, first_name: "Anna", username: "apetrova" };

describe("Telegram updates through the webhook (PUBLIC_URL set)", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({
      env: { PUBLIC_URL: "https://topicops.example.net", TELEGRAM_WEBHOOK_SECRET: SECRET },
      service: { telegramUpdates: true },
    });
  });
  afterAll(() => t?.stop());

  const post = (body: string, secret?: string) =>
    fetch(`${t.url}/telegram`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(secret ? { "x-telegram-bot-api-secret-token": secret } : {}) },
      body,
    });

  it("registers the webhook with its secret and the bot's commands", async () => {
    await waitFor(() => t.fake.webhook());
    expect(t.fake.webhook()).toEqual({ url: "https://topicops.example.net/telegram", secretToken: SECRET });
    await waitFor(() => t.fake.calls.find((c) => c.method === "setMyCommands" && c.ok));
  });

  it("refuses requests without Telegram's secret header, and bodies that are not updates", async () => {
    const update = JSON.stringify(t.fake.userMessage({ from: anna, text: "/status" }));
    expect((await post(update)).status).toBe(401);
    expect((await post(update, "wrong-secret-0123456789")).status).toBe(401);
    const bad = await post("{not json", SECRET);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "invalid_payload", message: "body is not valid JSON" });
    expect((await post(JSON.stringify({ hello: 1 }), SECRET)).status).toBe(400);
    await settled(t);
    expect(t.fake.messages().filter((m) => m.fromBot)).toHaveLength(0);
  });

  it("answers /status in the topic it was asked in, once even when Telegram redelivers", async () => {
    await t.hook("/hooks/alertmanager", fixture("alertmanager/assembled-firing-kube-pod-crashlooping.json"));
    await settled(t);
    const apps = t.fake.topics().find((x) => x.name === "📦 Apps")!.threadId;
    const update = t.fake.userMessage({ from: anna, text: "/status@topicops_test_bot", threadId: apps });
    const body = JSON.stringify(update);
    expect((await post(body, SECRET)).status).toBe(200);
    expect((await post(body, SECRET)).status).toBe(200);
    await settled(t);
    const replies = t.fake.messages(undefined, apps).filter((m) => m.fromBot && m.text.includes("alerts firing"));
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain("🔥 2 alerts firing");
    expect(replies[0]!.text).toContain("KubePodCrashLooping ×2");
    expect(replies[0]!.replyToMessageId).toBe(update.message!.message_id);
  });

  it("ignores other chats", async () => {
    const other = t.fake.userMessage({ from: anna, text: "/status" });
    (other.message as { chat: { id: number } }).chat.id = -100999;
    expect((await post(JSON.stringify(other), SECRET)).status).toBe(200);
    await settled(t);
    expect(t.fake.messages().filter((m) => m.fromBot && m.text.includes("firing")).length).toBe(1);
  });
});

describe("Telegram updates through long polling (no PUBLIC_URL)", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ service: { telegramUpdates: true } });
  });
  afterAll(() => t?.stop());

  it("answers /help from General", async () => {
    // grammY drops any webhook before it starts polling (getUpdates itself is logged when answered).
    await waitFor(() => t.fake.calls.find((c) => c.method === "deleteWebhook"));
    t.fake.pushUpdate(t.fake.userMessage({ from: anna, text: "/help" }));
    const reply = await waitFor(
      () => t.fake.messages(undefined, "general").find((m) => m.fromBot),
      () => t.fake.calls.map((c) => [c.method, c.ok, c.description]),
    );
    expect(reply.text).toContain("/status — what is firing right now");
  });
});

describe("stopping while Telegram cannot be reached", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ service: { telegramUpdates: true } });
  });
  afterAll(() => t?.stop());

  it("stops promptly, with long polling and a card waiting to be sent", async () => {
    await waitFor(() => t.fake.calls.find((c) => c.method === "deleteWebhook"));
    await t.fake.close();
    const res = await t.hook("/hooks/alertmanager", fixture("alertmanager/assembled-firing-kube-pod-crashlooping.json"));
    expect(res.status).toBe(200);
    await waitFor(async () => (await t.db.sql`select 1 from outbox o join cards c on c.id = o.card_id where c.kind = 'alert'`).length > 0);
    // Every Telegram call now fails to connect. Nothing may retry it without end.
    await withTimeout(t.stopService(), 15_000, "the service did not stop within 15 s");
  });
});
