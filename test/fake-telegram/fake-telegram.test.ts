import { readFileSync } from "node:fs";
import { Api, Bot, GrammyError, HttpError } from "grammy";
import type { Message, Update } from "grammy/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeTelegram, type FakeTelegram, type FakeTelegramOptions } from "./index.ts";

const FIXTURES = new URL("../../../shared/fixtures/telegram/", import.meta.url);
function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")) as T;
}

/** The structure of a JSON value: the same keys at every level, and the same kind of leaf. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shape(v)]),
    );
  }
  return typeof value;
}

async function rejection(promise: Promise<unknown>): Promise<GrammyError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GrammyError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const ANNA = { id: 284019371, first_name: "Anna", last_name: "Petrova", username: "apetrova", language_code: "en" };

let fake: FakeTelegram;
let api: Api;

async function start(options?: FakeTelegramOptions): Promise<void> {
  await fake?.close();
  fake = await startFakeTelegram(options);
  api = new Api(fake.token, { apiRoot: fake.apiRoot });
}

beforeEach(async () => {
  fake = await startFakeTelegram();
  api = new Api(fake.token, { apiRoot: fake.apiRoot });
});

afterEach(async () => {
  await fake.close();
});

describe("identity, routing and errors", () => {
  it("answers getMe with a bot whose id is the token's prefix, and records calls by canonical name", async () => {
    const me = await api.getMe();
    expect(me).toMatchObject({ id: 123456, is_bot: true, username: "topicops_test_bot" });
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({ method: "getMe", ok: true });
  });

  it("answers a wrong token with 401 Unauthorized and an unknown method with 404 Not Found", async () => {
    const wrong = new Api("999:wrong", { apiRoot: fake.apiRoot });
    const unauthorized = await rejection(wrong.getMe());
    expect(unauthorized.error_code).toBe(401);
    expect(unauthorized.description).toBe("Unauthorized");

    const response = await fetch(`${fake.apiRoot}/bot${fake.token}/sendCarrierPigeon`, { method: "POST" });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ ok: false, error_code: 404, description: "Not Found" });
  });

  it("answers an unknown chat with 400 chat not found", async () => {
    const error = await rejection(api.sendMessage(-100999, "hi"));
    expect(error.error_code).toBe(400);
    expect(error.description).toBe("Bad Request: chat not found");
  });

  it("accepts form-encoded bodies and query strings, with method names in any case", async () => {
    const form = await fetch(`${fake.apiRoot}/bot${fake.token}/SENDMESSAGE`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        chat_id: String(fake.chatId),
        text: "<b>form</b>",
        parse_mode: "HTML",
        reply_markup: JSON.stringify({ inline_keyboard: [[{ text: "Go", callback_data: "go" }]] }),
      }),
    });
    const body = (await form.json()) as { ok: boolean; result: Message };
    expect(body.ok).toBe(true);
    expect(body.result.entities).toEqual([{ offset: 0, length: 4, type: "bold" }]);
    expect(body.result.reply_markup).toEqual({ inline_keyboard: [[{ text: "Go", callback_data: "go" }]] });

    const query = await fetch(`${fake.apiRoot}/bot${fake.token}/getChat?chat_id=${fake.chatId}`);
    expect(((await query.json()) as { result: { is_forum: boolean } }).result.is_forum).toBe(true);
    expect(fake.calls.map((c) => c.method)).toEqual(["sendMessage", "getChat"]);
  });
});

describe("forum topics", () => {
  it("gives each topic the message id of its creation message, shared with the chat's message ids", async () => {
    const first = await api.createForumTopic(fake.chatId, "🔥 payments · KubePodCrashLooping", { icon_color: 16478047 });
    const sent = await api.sendMessage(fake.chatId, "card", { message_thread_id: first.message_thread_id });
    const second = await api.createForumTopic(fake.chatId, "deployments");

    expect(first).toEqual({
      message_thread_id: first.message_thread_id,
      name: "🔥 payments · KubePodCrashLooping",
      icon_color: 16478047,
    });
    expect(sent.message_id).toBe(first.message_thread_id + 1);
    expect(second.message_thread_id).toBe(sent.message_id + 1);
    expect(second.icon_color).toBe(7322096); // Telegram's default colour
    expect(fake.topics().map((t) => [t.threadId, t.name, t.closed, t.deleted])).toEqual([
      [first.message_thread_id, "🔥 payments · KubePodCrashLooping", false, false],
      [second.message_thread_id, "deployments", false, false],
    ]);
  });

  it("validates names and icon colours and requires a forum", async () => {
    // Deliberately outside grammY's union of allowed colours.
    const color = await rejection(api.createForumTopic(fake.chatId, "x", { icon_color: 0x123456 as 7322096 }));
    expect(color.description).toBe("Bad Request: TOPIC_ICON_COLOR_INVALID");
    const empty = await rejection(api.createForumTopic(fake.chatId, "   "));
    expect(empty.description).toBe("Bad Request: TOPIC_NAME_EMPTY");
    // Telegram cuts long names to 128 characters rather than refusing them.
    const long = await api.createForumTopic(fake.chatId, "n".repeat(200));
    expect(long.name).toHaveLength(128);
    expect(fake.topics()).toHaveLength(1);

    await start({ chats: [{ id: -1005550001, title: "plain group", isForum: false }] });
    const notForum = await rejection(api.createForumTopic(fake.chatId, "x"));
    expect(notForum.description).toBe("Bad Request: the chat is not a forum");
  });

  it("refuses to post into a deleted topic and forgets the topic's messages", async () => {
    const topic = await api.createForumTopic(fake.chatId, "alerts");
    const card = await api.sendMessage(fake.chatId, "before", { message_thread_id: topic.message_thread_id });
    fake.deleteTopic(topic.message_thread_id);

    const send = await rejection(api.sendMessage(fake.chatId, "after", { message_thread_id: topic.message_thread_id }));
    expect(send.error_code).toBe(400);
    expect(send.description).toBe("Bad Request: message thread not found");
    expect(fake.messages(fake.chatId, topic.message_thread_id)).toEqual([]);
    const edit = await rejection(api.editMessageText(fake.chatId, card.message_id, "edited"));
    expect(edit.description).toBe("Bad Request: message to edit not found");
    const close = await rejection(api.closeForumTopic(fake.chatId, topic.message_thread_id));
    expect(close.description).toBe("Bad Request: TOPIC_ID_INVALID");
  });

  it("refuses posts to a closed topic until it is reopened", async () => {
    const topic = await api.createForumTopic(fake.chatId, "alerts");
    fake.closeTopic(topic.message_thread_id);
    const closed = await rejection(api.sendMessage(fake.chatId, "x", { message_thread_id: topic.message_thread_id }));
    expect(closed.description).toBe("Bad Request: TOPIC_CLOSED");
    expect(fake.topics()[0]?.closed).toBe(true);

    await api.reopenForumTopic(fake.chatId, topic.message_thread_id);
    const sent = await api.sendMessage(fake.chatId, "x", { message_thread_id: topic.message_thread_id });
    expect(sent.message_thread_id).toBe(topic.message_thread_id);

    await api.closeForumTopic(fake.chatId, topic.message_thread_id);
    const again = await rejection(api.closeForumTopic(fake.chatId, topic.message_thread_id));
    expect(again.description).toBe("Bad Request: TOPIC_NOT_MODIFIED");
  });

  it("treats General (no thread) and message_thread_id 1 differently, as Telegram does", async () => {
    const general = await api.sendMessage(fake.chatId, "hello");
    const wrong = await rejection(api.sendMessage(fake.chatId, "hello", { message_thread_id: 1 }));
    expect(wrong.description).toBe("Bad Request: message thread not found");
    expect(general).not.toHaveProperty("message_thread_id");
    expect(general).not.toHaveProperty("is_topic_message");
    expect(general).not.toHaveProperty("reply_to_message");
  });
});

describe("sending", () => {
  it("returns a topic message shaped like Telegram's, replying to the topic's creation message", async () => {
    const topic = await api.createForumTopic(fake.chatId, "🔥 payments · KubePodCrashLooping", { icon_color: 16478047 });
    const sent = await api.sendMessage(fake.chatId, "🔥 <b>FIRING</b>: KubePodCrashLooping (2)", {
      parse_mode: "HTML",
      message_thread_id: topic.message_thread_id,
      reply_markup: { inline_keyboard: [[{ text: "✅ Ack", callback_data: "ack:1" }]] },
    });
    expect(sent.is_topic_message).toBe(true);
    expect(sent.message_thread_id).toBe(topic.message_thread_id);
    expect(sent.reply_to_message).toMatchObject({
      message_id: topic.message_thread_id,
      forum_topic_created: { name: "🔥 payments · KubePodCrashLooping", icon_color: 16478047 },
    });
    expect(sent.entities).toEqual([{ offset: 3, length: 6, type: "bold" }]);

    const stored = fake.messages(fake.chatId, topic.message_thread_id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      text: "🔥 FIRING: KubePodCrashLooping (2)",
      html: "🔥 <b>FIRING</b>: KubePodCrashLooping (2)",
      parseMode: "HTML",
      fromBot: true,
      edits: 0,
    });
  });

  it("keeps General messages apart from topic messages", async () => {
    const topic = await api.createForumTopic(fake.chatId, "alerts");
    await api.sendMessage(fake.chatId, "in general");
    await api.sendMessage(fake.chatId, "in topic", { message_thread_id: topic.message_thread_id });
    expect(fake.messages(fake.chatId, "general").map((m) => m.text)).toEqual(["in general"]);
    expect(fake.messages(fake.chatId, topic.message_thread_id).map((m) => m.text)).toEqual(["in topic"]);
    expect(fake.messages().map((m) => m.text)).toEqual(["in general", "in topic"]);
  });

  it("stores what a reader sees: trimmed text, merged runs, no formatting inside code", async () => {
    const sent = await api.sendMessage(fake.chatId, "\n  <b>a</b><b>b</b> <code><i>x</i></code>\t\n ", { parse_mode: "HTML" });
    expect(sent.text).toBe("ab x");
    expect(sent.entities).toEqual([
      { offset: 0, length: 2, type: "bold" },
      { offset: 3, length: 1, type: "code" },
    ]);
  });

  it("limits text to 4096 UTF-16 units after entity parsing", async () => {
    await api.sendMessage(fake.chatId, `<b>${"a".repeat(4096)}</b>`, { parse_mode: "HTML" });
    const long = await rejection(api.sendMessage(fake.chatId, "a".repeat(4097)));
    expect(long.description).toBe("Bad Request: message is too long");
    // 2049 emoji are 4098 UTF-16 units.
    const emoji = await rejection(api.sendMessage(fake.chatId, "🔥".repeat(2049)));
    expect(emoji.description).toBe("Bad Request: message is too long");
    const empty = await rejection(api.sendMessage(fake.chatId, " \n "));
    expect(empty.description).toBe("Bad Request: message text is empty");
    expect(fake.messages()).toHaveLength(1);
  });

  it("refuses HTML Telegram cannot parse, and stores nothing", async () => {
    const error = await rejection(api.sendMessage(fake.chatId, "<div>alert</div>", { parse_mode: "HTML" }));
    expect(error.error_code).toBe(400);
    expect(error.description).toBe(`Bad Request: can't parse entities: Unsupported start tag "div" at byte offset 0`);
    const unescaped = await rejection(api.sendMessage(fake.chatId, "value < threshold", { parse_mode: "HTML" }));
    expect(unescaped.description).toMatch(/^Bad Request: can't parse entities: Unsupported start tag ""/);
    expect(fake.messages()).toEqual([]);
  });

  it("validates inline keyboards and drops an empty one", async () => {
    const tooLong = await rejection(
      api.sendMessage(fake.chatId, "x", { reply_markup: { inline_keyboard: [[{ text: "b", callback_data: "é".repeat(33) }]] } }),
    );
    expect(tooLong.description).toBe("Bad Request: BUTTON_DATA_INVALID"); // 66 bytes, though only 33 characters
    const noUrl = await rejection(
      api.sendMessage(fake.chatId, "x", { reply_markup: { inline_keyboard: [[{ text: "b", url: "" }]] } }),
    );
    expect(noUrl.description).toBe("Bad Request: BUTTON_URL_INVALID");
    const empty = await api.sendMessage(fake.chatId, "x", { reply_markup: { inline_keyboard: [[]] } });
    expect(empty).not.toHaveProperty("reply_markup");
  });

  it("replies to a given message and refuses a reply to a missing one", async () => {
    const topic = await api.createForumTopic(fake.chatId, "alerts");
    const card = await api.sendMessage(fake.chatId, "card", { message_thread_id: topic.message_thread_id });
    // No thread given: the reply follows the replied message into its topic.
    const reply = await api.sendMessage(fake.chatId, "update", { reply_parameters: { message_id: card.message_id } });
    expect(reply.message_thread_id).toBe(topic.message_thread_id);
    expect(reply.reply_to_message?.message_id).toBe(card.message_id);
    expect(reply.reply_to_message).not.toHaveProperty("reply_to_message");
    expect(fake.message(reply.message_id)?.replyToMessageId).toBe(card.message_id);

    const missing = await rejection(api.sendMessage(fake.chatId, "x", { reply_parameters: { message_id: 99999 } }));
    expect(missing.description).toBe("Bad Request: message to be replied not found");
    const tolerated = await api.sendMessage(fake.chatId, "x", {
      reply_parameters: { message_id: 99999, allow_sending_without_reply: true },
    });
    expect(tolerated).not.toHaveProperty("reply_to_message");
  });
});

describe("editing", () => {
  const keyboard = { inline_keyboard: [[{ text: "Approve", callback_data: "approve:1" }]] };

  it("edits text, keeps the history and refuses an edit that changes nothing", async () => {
    const sent = await api.sendMessage(fake.chatId, "<b>FIRING</b>", { parse_mode: "HTML", reply_markup: keyboard });
    const edited = await api.editMessageText(fake.chatId, sent.message_id, "<b>RESOLVED</b>", {
      parse_mode: "HTML",
      reply_markup: keyboard,
    });
    expect(edited).toMatchObject({ text: "RESOLVED", reply_markup: keyboard });
    expect(typeof (edited as Message).edit_date).toBe("number");
    expect(fake.message(sent.message_id)).toMatchObject({ text: "RESOLVED", edits: 1, history: ["FIRING"] });

    const same = await rejection(
      api.editMessageText(fake.chatId, sent.message_id, "<b>RESOLVED</b>", { parse_mode: "HTML", reply_markup: keyboard }),
    );
    expect(same.description).toBe(
      "Bad Request: message is not modified: specified new message content and reply markup are exactly the same " +
        "as a current content and reply markup of the message",
    );
    // Different entities on the same text is a real change.
    await api.editMessageText(fake.chatId, sent.message_id, "RESOLVED", { reply_markup: keyboard });
    expect(fake.message(sent.message_id)?.entities).toEqual([]);
  });

  it("removes the keyboard when an edit leaves reply_markup out, as Telegram does", async () => {
    const sent = await api.sendMessage(fake.chatId, "card", { reply_markup: keyboard });
    const edited = await api.editMessageText(fake.chatId, sent.message_id, "card");
    expect(edited).not.toHaveProperty("reply_markup");
    expect(fake.message(sent.message_id)?.replyMarkup).toBeUndefined();

    const unchanged = await rejection(api.editMessageReplyMarkup(fake.chatId, sent.message_id));
    expect(unchanged.description).toMatch(/^Bad Request: message is not modified/);
    await api.editMessageReplyMarkup(fake.chatId, sent.message_id, { reply_markup: keyboard });
    expect(fake.message(sent.message_id)).toMatchObject({ replyMarkup: keyboard, edits: 2, history: ["card", "card"] });
  });

  it("answers edits of a deleted or unknown message with 'message to edit not found'", async () => {
    const sent = await api.sendMessage(fake.chatId, "card");
    fake.deleteMessage(sent.message_id);
    const deleted = await rejection(api.editMessageText(fake.chatId, sent.message_id, "new"));
    expect(deleted.description).toBe("Bad Request: message to edit not found");
    const unknown = await rejection(api.editMessageReplyMarkup(fake.chatId, 4242, { reply_markup: keyboard }));
    expect(unknown.description).toBe("Bad Request: message to edit not found");
    expect(fake.message(sent.message_id)).toBeUndefined();
  });

  it("uses Telegram's edit-specific wording for text that is too long", async () => {
    const sent = await api.sendMessage(fake.chatId, "short");
    const error = await rejection(api.editMessageText(fake.chatId, sent.message_id, "x".repeat(4097)));
    expect(error.description).toBe("Bad Request: MESSAGE_TOO_LONG");
  });
});

describe("faults and flood control", () => {
  it("fails the next matching call with a 429 carrying retry_after, then recovers", async () => {
    fake.fail("sendMessage", { errorCode: 429, description: "Too Many Requests: retry after 7", retryAfter: 7 });
    const error = await rejection(api.sendMessage(fake.chatId, "x"));
    expect(error.error_code).toBe(429);
    expect(error.parameters.retry_after).toBe(7);
    expect(fake.messages()).toEqual([]);

    await api.sendMessage(fake.chatId, "x");
    expect(fake.messages()).toHaveLength(1);
    expect(fake.calls.map((c) => [c.method, c.ok, c.errorCode])).toEqual([
      ["sendMessage", false, 429],
      ["sendMessage", true, undefined],
    ]);
  });

  it("matches faults by method, chat and count, with * for any method", async () => {
    fake.fail("*", { errorCode: 500, description: "Internal Server Error", times: 2, chatId: -100777 });
    fake.fail("editMessageText", { errorCode: 502, description: "Bad Gateway" });
    await api.sendMessage(fake.chatId, "other chat is unaffected");
    const gateway = await rejection(api.editMessageText(fake.chatId, 2, "x"));
    expect(gateway.error_code).toBe(502);
    const internal = await rejection(api.getChat(-100777));
    expect(internal.error_code).toBe(500);
    expect(internal.description).toBe("Internal Server Error");
    // Second of two, then the fault is used up and the real answer (unknown chat) comes through.
    expect((await rejection(api.getChat(-100777))).error_code).toBe(500);
    expect((await rejection(api.getChat(-100777))).description).toBe("Bad Request: chat not found");
  });

  it("drops the connection for a network fault, which grammY reports as HttpError", async () => {
    fake.fail("sendMessage", { network: true });
    await expect(api.sendMessage(fake.chatId, "x")).rejects.toBeInstanceOf(HttpError);
    expect(fake.calls[0]).toMatchObject({ method: "sendMessage", ok: false, network: true });
    expect(fake.messages()).toEqual([]);
    await api.sendMessage(fake.chatId, "x");
    expect(fake.messages()).toHaveLength(1);
  });

  it("never answers a call with a hang fault, until the client gives up", async () => {
    fake.fail("sendMessage", { hang: true });
    const controller = new AbortController();
    const pending = api.raw.sendMessage({ chat_id: fake.chatId, text: "x" }, controller.signal as never);
    while (fake.calls.length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(fake.calls[0]).toMatchObject({ method: "sendMessage", ok: false, hung: true });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(HttpError);
    expect(fake.messages()).toEqual([]);
    await api.sendMessage(fake.chatId, "x");
    expect(fake.messages()).toHaveLength(1);
  });

  it("applies per-minute flood control per chat and does not apply the refused call", async () => {
    await start({
      rateLimit: { perMinute: 3 },
      chats: [{ id: -1001234567890, isForum: true }, { id: -1009876543210, isForum: true }],
    });
    for (let i = 0; i < 3; i++) await api.sendMessage(fake.chatId, `m${i}`);
    const error = await rejection(api.sendMessage(fake.chatId, "one too many"));
    expect(error.error_code).toBe(429);
    expect(error.parameters.retry_after).toBeGreaterThanOrEqual(59);
    expect(error.parameters.retry_after).toBeLessThanOrEqual(60);
    expect(error.description).toBe(`Too Many Requests: retry after ${error.parameters.retry_after}`);
    expect(fake.messages().map((m) => m.text)).toEqual(["m0", "m1", "m2"]);
    // Edits count too; another chat has its own budget.
    expect((await rejection(api.editMessageText(fake.chatId, 2, "e"))).error_code).toBe(429);
    await api.sendMessage(-1009876543210, "elsewhere");
  });

  it("applies a per-second window and frees the slot when it passes", async () => {
    await start({ rateLimit: { perMinute: 100, perSecond: 2 } });
    await api.sendMessage(fake.chatId, "a");
    await api.sendMessage(fake.chatId, "b");
    const error = await rejection(api.sendMessage(fake.chatId, "c"));
    expect(error.parameters.retry_after).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await api.sendMessage(fake.chatId, "c");
    expect(fake.messages().map((m) => m.text)).toEqual(["a", "b", "c"]);
  });
});

describe("getUpdates", () => {
  it("holds a long poll until an update is pushed, and confirms with offset", async () => {
    const startedAt = Date.now();
    const poll = api.getUpdates({ timeout: 20 });
    setTimeout(() => fake.pushUpdate(fake.userMessage({ from: ANNA, text: "/status@topicops_test_bot" })), 150);
    const updates = await poll;
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(100);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.message?.text).toBe("/status@topicops_test_bot");

    const next = (updates[0] as Update).update_id + 1;
    expect(await api.getUpdates({ offset: next, timeout: 0 })).toEqual([]);
    // Confirmed: even without an offset the old update does not come back.
    expect(await api.getUpdates({ timeout: 0 })).toEqual([]);
  });

  it("answers at once when updates are pending and honours limit", async () => {
    const first = fake.pushUpdate(fake.userMessage({ from: ANNA, text: "one" }));
    fake.pushUpdate(fake.userMessage({ from: ANNA, text: "two" }));
    const batch = await api.getUpdates({ limit: 1, timeout: 30 });
    expect(batch.map((u) => u.update_id)).toEqual([first]);
    const rest = await api.getUpdates({ offset: first + 1, timeout: 30 });
    expect(rest.map((u) => u.message?.text)).toEqual(["two"]);
  });

  it("releases a waiting poll when the fake closes", async () => {
    const startedAt = Date.now();
    const poll = api.getUpdates({ timeout: 30 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await fake.close();
    expect(await poll).toEqual([]);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    fake = await startFakeTelegram(); // afterEach closes it
  });

  it("terminates an older poll with 409 when a newer one starts, as Telegram does", async () => {
    const older = rejection(api.getUpdates({ timeout: 30 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const newer = api.getUpdates({ timeout: 30 });
    const error = await older;
    expect(error.error_code).toBe(409);
    expect(error.description).toMatch(/^Conflict: terminated by other getUpdates request/);
    fake.pushUpdate(fake.userMessage({ from: ANNA, text: "hi" }));
    expect((await newer).map((u) => u.message?.text)).toEqual(["hi"]);
  });

  it("refuses getUpdates with 409 while a webhook is set, and validates the webhook", async () => {
    const http = await rejection(api.setWebhook("http://bot.example/telegram"));
    expect(http.description).toBe("Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
    const secret = await rejection(api.setWebhook("https://bot.example/telegram", { secret_token: "has space" }));
    expect(secret.description).toBe("Bad Request: secret token contains unallowed characters");

    await api.setWebhook("https://bot.example/telegram", { secret_token: "s3cret_-token" });
    expect(fake.webhook()).toEqual({ url: "https://bot.example/telegram", secretToken: "s3cret_-token" });
    expect((await api.getWebhookInfo()).url).toBe("https://bot.example/telegram");
    const conflict = await rejection(api.getUpdates());
    expect(conflict.error_code).toBe(409);
    expect(conflict.description).toBe(
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    );

    await api.deleteWebhook();
    expect(await api.getUpdates({ timeout: 0 })).toEqual([]);
  });
});

describe("with a grammY Bot", () => {
  it("serves long polling end to end: a command in a topic is answered in that topic", async () => {
    const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
    bot.command("status", (ctx) => ctx.reply("<b>all quiet</b>", { parse_mode: "HTML" }));
    const topic = await bot.api.createForumTopic(fake.chatId, "alerts");
    const running = bot.start();
    fake.pushUpdate(fake.userMessage({ from: ANNA, text: "/status@topicops_test_bot", threadId: topic.message_thread_id }));

    await eventually(() => fake.messages(fake.chatId, topic.message_thread_id).some((m) => m.fromBot));
    await bot.stop();
    await running;
    const reply = fake.messages(fake.chatId, topic.message_thread_id).find((m) => m.fromBot);
    expect(reply).toMatchObject({ text: "all quiet", entities: [{ offset: 0, length: 9, type: "bold" }] });
    // bot.stop() confirmed the handled update, so nothing is delivered twice.
    expect(await api.getUpdates({ timeout: 0 })).toEqual([]);
  });
});

describe("update builders", () => {
  it("builds a callback query shaped exactly like the forum fixture", async () => {
    const expected = fixture<Update>("assembled-update-callback-query-in-forum-topic.json");
    const topic = await api.createForumTopic(fake.chatId, "🔥 payments · KubePodCrashLooping", { icon_color: 16478047 });
    const card = await api.sendMessage(
      fake.chatId,
      "🔥 <b>FIRING</b>: KubePodCrashLooping (2)\nnamespace: payments\n" +
        'Pod payments/payments-api (api) is in waiting state (reason: "CrashLoopBackOff")',
      {
        parse_mode: "HTML",
        message_thread_id: topic.message_thread_id,
        reply_markup: {
          inline_keyboard: [
            [
              { text: "✅ Ack", callback_data: "ack:bed80a6c8c212e9d" },
              { text: "🔕 Silence 1h", callback_data: "sil:1h:bed80a6c8c212e9d" },
            ],
            [{ text: "📖 Runbook", url: "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping" }],
          ],
        },
      },
    );
    const update = fake.callbackQuery({ from: ANNA, messageId: card.message_id, data: "ack:bed80a6c8c212e9d" });

    expect(shape(update)).toEqual(shape(expected));
    const query = update.callback_query;
    expect(query?.message?.message_id).toBe(card.message_id);
    expect(query?.message).toMatchObject({ message_thread_id: topic.message_thread_id, is_topic_message: true });
    expect(query?.chat_instance).toMatch(/^-?[0-9]+$/);
    expect(query?.id).toMatch(/^[0-9]+$/);
  });

  it("hands over an InaccessibleMessage when the button's message was deleted", async () => {
    const card = await api.sendMessage(fake.chatId, "card", {
      reply_markup: { inline_keyboard: [[{ text: "Go", callback_data: "go" }]] },
    });
    fake.deleteMessage(card.message_id);
    const update = fake.callbackQuery({ from: ANNA, messageId: card.message_id, data: "go" });
    expect(update.callback_query?.message).toEqual({
      chat: { id: fake.chatId, title: "topicops test forum", is_forum: true, type: "supergroup" },
      message_id: card.message_id,
      date: 0,
    });
  });

  it("records callback answers and refuses a second answer to the same query", async () => {
    const card = await api.sendMessage(fake.chatId, "card", {
      reply_markup: { inline_keyboard: [[{ text: "Go", callback_data: "go" }]] },
    });
    const id = fake.callbackQuery({ from: ANNA, messageId: card.message_id, data: "go" }).callback_query?.id ?? "";
    await api.answerCallbackQuery(id, { text: "Only approvers can approve", show_alert: true });
    expect(fake.callbackAnswers()).toMatchObject([{ callbackQueryId: id, text: "Only approvers can approve", showAlert: true }]);
    const twice = await rejection(api.answerCallbackQuery(id));
    expect(twice.description).toBe("Bad Request: query is too old and response timeout expired or query ID is invalid");
    // Unknown ids (e.g. from before a restart) are accepted.
    expect(await api.answerCallbackQuery("123")).toBe(true);
  });

  it("builds a command in a topic like the fixture, with a bot_command entity", async () => {
    const expected = fixture<Update>("assembled-update-command-in-forum-topic.json");
    const topic = await api.createForumTopic(fake.chatId, "🔥 payments · KubePodCrashLooping", { icon_color: 16478047 });
    const update = fake.userMessage({
      from: ANNA,
      text: "/ack@topicops_test_bot looking into it",
      threadId: topic.message_thread_id,
    });

    expect(shape(update)).toEqual(shape(expected));
    expect(update.message?.entities).toEqual([{ offset: 0, length: 22, type: "bot_command" }]);
    expect(update.message?.reply_to_message?.message_id).toBe(topic.message_thread_id);
    expect(fake.message(update.message?.message_id ?? 0)).toMatchObject({ fromBot: false, threadId: topic.message_thread_id });
  });

  it("builds a General message without thread fields, like the fixture", () => {
    const expected = fixture<Update>("assembled-update-message-in-general-topic.json");
    const update = fake.userMessage({ from: ANNA, text: "/status@topicops_test_bot" });
    expect(shape(update)).toEqual(shape(expected));
  });

  it("forgets everything on reset but keeps update ids increasing", async () => {
    await api.createForumTopic(fake.chatId, "alerts");
    const before = fake.pushUpdate(fake.userMessage({ from: ANNA, text: "x" }));
    fake.fail("getMe", { errorCode: 500, description: "Internal Server Error" });
    fake.reset();
    expect(fake.topics()).toEqual([]);
    expect(fake.messages()).toEqual([]);
    expect(fake.calls).toEqual([]);
    expect(await api.getUpdates({ timeout: 0 })).toEqual([]);
    expect((await api.getMe()).id).toBe(fake.bot.id);
    expect(fake.pushUpdate({ message: fake.userMessage({ from: ANNA, text: "y" }).message } as Update)).toBeGreaterThan(before);
  });
});
