/**
 * A fake Telegram Bot API server for tests: a real HTTP server that grammY talks to through
 * `apiRoot`, answering with Telegram's shapes, limits and error wording, and recording what a
 * person in the forum group would see.
 *
 *   const fake = await startFakeTelegram();
 *   const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
 *   …
 *   expect(fake.messages(fake.chatId, threadId).map((m) => m.text)).toEqual([...]);
 *   await fake.close();
 */
import type { Update, User } from "grammy/types";
import type { RateLimitOptions } from "./rate-limit.ts";
import { FakeTelegramServer, type ApiCall, type Fault } from "./server.ts";
import {
  FakeState,
  type CallbackAnswer,
  type ChatState,
  type FakeChatOptions,
  type FakeMessage,
  type FakeTopic,
  type ServiceKind,
  type TopicState,
  type UserInit,
} from "./state.ts";

export { parseTelegramHtml, type ParsedHtml, type ParseHtmlOptions } from "./html.ts";
export { TOPIC_ICON_COLORS, DEFAULT_TOPIC_ICON_COLOR } from "./state.ts";
export type {
  ApiCall,
  CallbackAnswer,
  FakeChatOptions,
  FakeMessage,
  FakeTopic,
  Fault,
  RateLimitOptions,
  ServiceKind,
  UserInit,
};

export const DEFAULT_TOKEN = "123456:TEST-fake-token-abcdefghijklmnop";
export const DEFAULT_CHAT_ID = -1001234567890;

export interface FakeTelegramOptions {
  token?: string;
  /** Defaults to the number before ":" in the token, as on Telegram. */
  botId?: number;
  botUsername?: string;
  botFirstName?: string;
  /** Defaults to one forum supergroup, id -1001234567890. The first chat is `fake.chatId`. */
  chats?: FakeChatOptions[];
  /** Telegram-like per-chat flood control on writes (send*, edit*, *ForumTopic, deleteMessage). Off by default. */
  rateLimit?: RateLimitOptions;
  /**
   * Reject HTML Telegram would accept but render wrongly (unknown `&name;` entities, `<a>` in `<a>`).
   * Default true; see ParseHtmlOptions.
   */
  strictHtml?: boolean;
  /**
   * Queue the service-message updates Telegram sends for topics the bot creates/edits/closes/reopens
   * (and for closeTopic/reopenTopic here). Default false, so getUpdates holds only what tests push.
   */
  serviceUpdates?: boolean;
  port?: number;
  host?: string;
  onCall?: (call: ApiCall) => void;
}

export interface FakeTelegram {
  /** e.g. http://127.0.0.1:43123; grammY appends /bot<token>/<method>. */
  apiRoot: string;
  token: string;
  /** The first (default) chat. */
  chatId: number;
  bot: User;
  /** Every request, in the order the fake answered it. */
  calls: ApiCall[];

  topics(chatId?: number): FakeTopic[];
  /**
   * Non-service, non-deleted messages, oldest first. `threadId` narrows to one topic;
   * `"general"` to the General topic; omitted means the whole chat.
   */
  messages(chatId?: number, threadId?: number | "general"): FakeMessage[];
  /** A live message (service messages included, with `service` set); undefined once deleted. */
  message(messageId: number, chatId?: number): FakeMessage | undefined;
  callbackAnswers(): CallbackAnswer[];
  webhook(): { url: string; secretToken?: string } | undefined;

  deleteTopic(threadId: number, chatId?: number): void;
  closeTopic(threadId: number, chatId?: number): void;
  reopenTopic(threadId: number, chatId?: number): void;
  deleteMessage(messageId: number, chatId?: number): void;

  fail(method: string, fault: Fault): void;
  clearFaults(): void;

  pushUpdate(update: Omit<Update, "update_id"> & { update_id?: number }): number;
  userMessage(opts: { from: UserInit; text: string; threadId?: number; chatId?: number; replyToMessageId?: number }): Update;
  callbackQuery(opts: { from: UserInit; messageId: number; data: string; chatId?: number }): Update;

  reset(): void;
  close(): Promise<void>;
}

// Who closes/reopens topics in simulations when the chat has no configured admin.
const FORUM_ADMIN: User = { id: 5_000_000_001, is_bot: false, first_name: "Forum", last_name: "Admin", username: "forum_admin" };

export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const token = options.token ?? DEFAULT_TOKEN;
  const tokenBotId = Number(token.split(":")[0]);
  const bot: User = {
    id: options.botId ?? (Number.isSafeInteger(tokenBotId) && tokenBotId > 0 ? tokenBotId : 123456),
    is_bot: true,
    first_name: options.botFirstName ?? "TopicOps Test",
    username: options.botUsername ?? "topicops_test_bot",
  };
  const chats = options.chats?.length ? options.chats : [{ id: DEFAULT_CHAT_ID, title: "topicops test forum", isForum: true }];
  const defaultChatId = (chats[0] as FakeChatOptions).id;
  const serviceUpdates = options.serviceUpdates ?? false;
  const state = new FakeState(bot, chats);
  const server = new FakeTelegramServer({
    token,
    state,
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    strictHtml: options.strictHtml ?? true,
    serviceUpdates,
    ...(options.onCall ? { onCall: options.onCall } : {}),
  });
  const apiRoot = await server.listen(options.port ?? 0, options.host ?? "127.0.0.1");

  const topicForTest = (chat: ChatState, threadId: number): TopicState => {
    const topic = chat.topics.get(threadId);
    if (!topic || topic.deleted) throw new Error(`fake-telegram: no topic ${threadId} in chat ${chat.id}`);
    return topic;
  };
  const actorIn = (chat: ChatState): User => chat.admins[0]?.user ?? FORUM_ADMIN;
  const simulateService = (chat: ChatState, topic: TopicState, kind: ServiceKind): void => {
    const message = state.addServiceMessage(chat, topic.threadId, actorIn(chat), kind, {});
    if (serviceUpdates) state.updates.push({ message: state.messageJson(message) } as Update);
  };

  return {
    apiRoot,
    token,
    chatId: defaultChatId,
    bot,
    calls: server.calls,

    topics(chatId = defaultChatId) {
      return [...state.chatForTest(chatId).topics.values()]
        .sort((a, b) => a.threadId - b.threadId)
        .map((topic) => ({
          threadId: topic.threadId,
          name: topic.name,
          iconColor: topic.iconColor,
          ...(topic.iconCustomEmojiId ? { iconCustomEmojiId: topic.iconCustomEmojiId } : {}),
          closed: topic.closed,
          deleted: topic.deleted,
        }));
    },
    messages(chatId = defaultChatId, threadId) {
      return [...state.chatForTest(chatId).messages.values()]
        .filter((m) => !m.deleted && !m.service)
        .filter((m) => threadId === undefined || (threadId === "general" ? m.threadId === undefined : m.threadId === threadId))
        .sort((a, b) => a.messageId - b.messageId)
        .map((m) => state.fakeMessage(m));
    },
    message(messageId, chatId = defaultChatId) {
      const stored = state.liveMessage(state.chatForTest(chatId), messageId);
      return stored ? state.fakeMessage(stored) : undefined;
    },
    callbackAnswers() {
      return state.callbackAnswers.map((answer) => ({ ...answer }));
    },
    webhook() {
      const hook = state.webhook;
      if (!hook) return undefined;
      return hook.secretToken ? { url: hook.url, secretToken: hook.secretToken } : { url: hook.url };
    },

    deleteTopic(threadId, chatId = defaultChatId) {
      const chat = state.chatForTest(chatId);
      state.deleteTopic(chat, topicForTest(chat, threadId));
    },
    closeTopic(threadId, chatId = defaultChatId) {
      const chat = state.chatForTest(chatId);
      const topic = topicForTest(chat, threadId);
      if (topic.closed) return;
      topic.closed = true;
      simulateService(chat, topic, "forum_topic_closed");
    },
    reopenTopic(threadId, chatId = defaultChatId) {
      const chat = state.chatForTest(chatId);
      const topic = topicForTest(chat, threadId);
      if (!topic.closed) return;
      topic.closed = false;
      simulateService(chat, topic, "forum_topic_reopened");
    },
    deleteMessage(messageId, chatId = defaultChatId) {
      const chat = state.chatForTest(chatId);
      const message = state.liveMessage(chat, messageId);
      if (!message) throw new Error(`fake-telegram: no message ${messageId} in chat ${chatId}`);
      message.deleted = true;
    },

    fail(method, fault) {
      server.addFault(method, fault);
    },
    clearFaults() {
      server.clearFaults();
    },

    pushUpdate(update) {
      return state.updates.push(update);
    },
    userMessage(opts) {
      return state.userMessage({ ...opts, chatId: opts.chatId ?? defaultChatId });
    },
    callbackQuery(opts) {
      return state.callbackQuery({ ...opts, chatId: opts.chatId ?? defaultChatId });
    },

    reset() {
      server.reset();
      state.reset();
    },
    close() {
      return server.close();
    },
  };
}
