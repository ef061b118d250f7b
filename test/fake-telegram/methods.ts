import type { MessageEntity, Update, User } from "grammy/types";
import { ApiError, badRequest } from "./api-error.ts";
import { jsonEqual, normalizeFormattedText } from "./format.ts";
import { checkedLink, parseTelegramHtml } from "./html.ts";
import { chatIdParam, optBool, optInt, optJson, optString, type Params } from "./params.ts";
import {
  DEFAULT_TOPIC_ICON_COLOR,
  TOPIC_ICON_COLORS,
  type ChatState,
  type FakeState,
  type ServiceKind,
  type StoredMessage,
  type TopicState,
} from "./state.ts";

/** The Bot API methods the fake answers, keyed by lower-case name (Telegram ignores case). */
export interface MethodContext {
  state: FakeState;
  /** Aborted when the client disconnects (a long poll then stops waiting). */
  signal: AbortSignal;
  strictHtml: boolean;
  /** Push service-message updates (topic created/closed/…) to getUpdates, as Telegram does. */
  serviceUpdates: boolean;
}

/** A successful answer that carries a `description` too, as setWebhook/deleteWebhook do. */
export class Described {
  readonly result: unknown;
  readonly description: string;
  constructor(result: unknown, description: string) {
    this.result = result;
    this.description = description;
  }
}

export interface MethodSpec {
  name: string;
  /** Counted by flood control: it posts, edits or deletes something in a chat. */
  writesToChat: boolean;
  run(params: Params, ctx: MethodContext): unknown;
}

const MAX_TEXT = 4096;
const MAX_TOPIC_NAME = 128;

const ERR = {
  chatNotFound: () => badRequest("chat not found"),
  threadNotFound: () => badRequest("message thread not found"),
  topicClosed: () => badRequest("TOPIC_CLOSED"),
  topicInvalid: () => badRequest("TOPIC_ID_INVALID"),
  topicNotModified: () => badRequest("TOPIC_NOT_MODIFIED"),
  notForum: () => badRequest("the chat is not a forum"),
  editNotFound: () => badRequest("message to edit not found"),
  notModified: () =>
    badRequest(
      "message is not modified: specified new message content and reply markup are exactly the same as a current " +
        "content and reply markup of the message",
    ),
  queryInvalid: () => badRequest("query is too old and response timeout expired or query ID is invalid"),
};

function chatOf(ctx: MethodContext, params: Params): ChatState {
  const id = chatIdParam(params);
  if (id === undefined) throw badRequest("chat_id is empty");
  // Chats here have no public usernames, so "@name" can never resolve.
  if (typeof id === "string") throw ERR.chatNotFound();
  const chat = ctx.state.chats.get(id);
  if (!chat) throw ERR.chatNotFound();
  return chat;
}

function forumOf(ctx: MethodContext, params: Params): ChatState {
  const chat = chatOf(ctx, params);
  if (!chat.isForum) throw ERR.notForum();
  return chat;
}

function topicOf(chat: ChatState, params: Params): TopicState {
  const threadId = optInt(params, "message_thread_id");
  const topic = threadId === undefined ? undefined : chat.topics.get(threadId);
  if (!topic || topic.deleted) throw ERR.topicInvalid();
  return topic;
}

interface PreparedText {
  text: string;
  entities: MessageEntity[];
  html: string | undefined;
  parseMode: string | undefined;
}

function prepareText(params: Params, ctx: MethodContext, forEdit: boolean): PreparedText {
  const raw = optString(params, "text");
  if (raw === undefined || raw === "") throw badRequest("message text is empty");
  const parseMode = optString(params, "parse_mode") || undefined;
  const explicit = optJson(params, "entities", "message entities");

  let parsed: { text: string; entities: MessageEntity[] };
  if (explicit !== undefined) {
    parsed = { text: raw, entities: checkEntities(explicit, raw) };
  } else if (parseMode !== undefined) {
    const mode = parseMode.toLowerCase();
    if (mode === "html") {
      try {
        parsed = parseTelegramHtml(raw, { strict: ctx.strictHtml });
      } catch (error) {
        throw badRequest((error as Error).message);
      }
    } else if (mode === "markdown" || mode === "markdownv2") {
      throw badRequest(`can't parse entities: the fake Telegram server implements parse_mode HTML only, not ${parseMode}`);
    } else {
      throw badRequest("unsupported parse_mode");
    }
  } else {
    parsed = { text: raw, entities: [] };
  }

  const normalized = normalizeFormattedText(parsed.text, parsed.entities);
  if (!normalized) throw badRequest("message text is empty");
  // Telegram names the same limit differently for new and edited messages.
  if (normalized.text.length > MAX_TEXT) throw badRequest(forEdit ? "MESSAGE_TOO_LONG" : "message is too long");
  return {
    text: normalized.text,
    entities: normalized.entities,
    html: parseMode?.toLowerCase() === "html" && explicit === undefined ? raw : undefined,
    parseMode,
  };
}

function checkEntities(value: unknown, text: string): MessageEntity[] {
  if (!Array.isArray(value)) throw badRequest("can't parse message entities JSON object");
  return value.map((item: unknown) => {
    const entity = item as Partial<MessageEntity> | null;
    if (typeof entity !== "object" || entity === null || typeof entity.type !== "string") {
      throw badRequest("can't parse MessageEntity: field \"type\" must be of type String");
    }
    const offset = entity.offset;
    const length = entity.length;
    if (!Number.isInteger(offset) || !Number.isInteger(length) || (offset as number) < 0 || (length as number) < 0) {
      throw badRequest("can't parse MessageEntity: offset and length must be non-negative integers");
    }
    if ((offset as number) + (length as number) > text.length) {
      throw badRequest(
        `can't parse entities: Entity beginning at UTF-16 offset ${offset} ends after the end of the text at ` +
          `UTF-16 offset ${(offset as number) + (length as number)}`,
      );
    }
    return structuredClone(entity) as MessageEntity;
  });
}

/**
 * Validates reply_markup the way Telegram does and returns what a message would carry: an inline
 * keyboard without empty rows, or nothing (an empty inline keyboard removes the keyboard). Reply
 * keyboards are accepted but, as on Telegram, are not part of the returned Message.
 */
function prepareMarkup(params: Params): unknown {
  const markup = optJson(params, "reply_markup", "reply keyboard markup");
  if (markup === undefined) return undefined;
  if (typeof markup !== "object" || markup === null || Array.isArray(markup)) {
    throw badRequest("can't parse reply keyboard markup JSON object");
  }
  const record = markup as Record<string, unknown>;
  if (!("inline_keyboard" in record)) return undefined;
  const rows = record.inline_keyboard;
  const notArrays = (): ApiError =>
    badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
  if (!Array.isArray(rows)) throw notArrays();
  const keyboard: Array<Array<Record<string, unknown>>> = [];
  for (const row of rows) {
    if (!Array.isArray(row)) throw notArrays();
    const buttons = row.map(checkButton);
    if (buttons.length > 0) keyboard.push(buttons);
  }
  return keyboard.length > 0 ? { inline_keyboard: keyboard } : undefined;
}

const BUTTON_ACTIONS = [
  "url",
  "callback_data",
  "web_app",
  "login_url",
  "switch_inline_query",
  "switch_inline_query_current_chat",
  "switch_inline_query_chosen_chat",
  "copy_text",
  "callback_game",
  "pay",
];

function checkButton(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
  }
  const button = Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null),
  );
  if (typeof button.text !== "string") {
    throw badRequest('can\'t parse inline keyboard button: Field "text" must be of type String');
  }
  if ("callback_data" in button) {
    const data = button.callback_data;
    const bytes = typeof data === "string" ? Buffer.byteLength(data, "utf8") : 0;
    if (bytes < 1 || bytes > 64) throw badRequest("BUTTON_DATA_INVALID");
  }
  if ("url" in button) {
    if (typeof button.url !== "string" || checkedLink(button.url) === undefined) throw badRequest("BUTTON_URL_INVALID");
  }
  if (!BUTTON_ACTIONS.some((action) => action in button)) {
    throw badRequest("text buttons are unallowed in the inline keyboard");
  }
  return button;
}

function replyTargetOf(chat: ChatState, params: Params, ctx: MethodContext): StoredMessage | undefined {
  const parameters = optJson(params, "reply_parameters", "reply parameters");
  let messageId: number | undefined;
  let allowWithout: boolean | undefined;
  let otherChat = false;
  if (parameters !== undefined) {
    const p = parameters as Params;
    messageId = optInt(p, "message_id");
    allowWithout = optBool(p, "allow_sending_without_reply");
    const targetChat = chatIdParam(p);
    otherChat = targetChat !== undefined && targetChat !== chat.id;
  } else {
    messageId = optInt(params, "reply_to_message_id");
    allowWithout = optBool(params, "allow_sending_without_reply");
  }
  if (messageId === undefined || messageId === 0) return undefined;
  // Cross-chat replies are out of scope for the fake; they fail like a missing message.
  const target = otherChat ? undefined : ctx.state.liveMessage(chat, messageId);
  if (!target && !allowWithout) throw badRequest("message to be replied not found");
  return target;
}

function sendThreadOf(chat: ChatState, params: Params, replyTarget: StoredMessage | undefined): number | undefined {
  const given = optInt(params, "message_thread_id");
  // A reply lands in the replied message's topic when no thread is named.
  const threadId = given === undefined || given === 0 ? replyTarget?.threadId : given;
  if (threadId === undefined) return undefined;
  const topic = chat.topics.get(threadId);
  if (!chat.isForum || !topic || topic.deleted) throw ERR.threadNotFound();
  if (topic.closed) throw ERR.topicClosed();
  return threadId;
}

function editable(ctx: MethodContext, params: Params): { chat: ChatState; message: StoredMessage } {
  if (optString(params, "inline_message_id")) throw badRequest("MESSAGE_ID_INVALID");
  const chat = chatOf(ctx, params);
  const messageId = optInt(params, "message_id");
  if (messageId === undefined) throw badRequest("message identifier is not specified");
  const message = ctx.state.liveMessage(chat, messageId);
  if (!message) throw ERR.editNotFound();
  if (!message.fromBot) throw badRequest("message can't be edited");
  return { chat, message };
}

function applyEdit(message: StoredMessage, next: Partial<PreparedText>, replyMarkup: unknown): void {
  message.history.push(message.text);
  message.edits++;
  message.editDate = Math.max(Math.floor(Date.now() / 1000), message.date);
  if (next.text !== undefined) {
    message.text = next.text;
    message.entities = next.entities ?? [];
    message.html = next.html;
    message.parseMode = next.parseMode;
  }
  message.replyMarkup = replyMarkup;
}

function emitService(ctx: MethodContext, message: StoredMessage): void {
  if (ctx.serviceUpdates) ctx.state.updates.push({ message: ctx.state.messageJson(message) } as Update);
}

function addTopicService(
  ctx: MethodContext,
  chat: ChatState,
  topic: TopicState,
  kind: ServiceKind,
  payload: Record<string, unknown>,
): void {
  emitService(ctx, ctx.state.addServiceMessage(chat, topic.threadId, ctx.state.bot, kind, payload));
}

/**
 * Telegram cleans a topic name like a chat title: control characters become spaces, the ends are
 * trimmed, and a long name is cut to 128 characters rather than refused.
 */
function cleanTopicName(raw: string): string {
  const spaced = Array.from(raw, (ch) => (ch.charCodeAt(0) < 0x20 ? " " : ch)).join("").trim();
  return Array.from(spaced).slice(0, MAX_TOPIC_NAME).join("").trim();
}

function chatMemberJson(ctx: MethodContext, chat: ChatState, userId: number): unknown {
  const { state } = ctx;
  if (userId === state.bot.id) return adminJson(state.bot, false);
  const admin = chat.admins.find((a) => a.user.id === userId);
  if (admin) return adminJson(admin.user, admin.creator);
  const user = state.users.get(userId);
  if (!user) throw badRequest("user not found");
  return { status: "member", user };
}

function adminJson(user: User, creator: boolean): unknown {
  if (creator) return { status: "creator", user, is_anonymous: false };
  return {
    status: "administrator",
    user,
    can_be_edited: false,
    is_anonymous: false,
    can_manage_chat: true,
    can_delete_messages: true,
    can_manage_video_chats: true,
    can_restrict_members: true,
    can_promote_members: false,
    can_change_info: true,
    can_invite_users: true,
    can_post_stories: false,
    can_edit_stories: false,
    can_delete_stories: false,
    can_pin_messages: true,
    can_manage_topics: true,
  };
}

function commandsKey(params: Params): string {
  const scope = (optJson(params, "scope", "bot command scope") ?? { type: "default" }) as Params;
  const type = optString(scope, "type") ?? "default";
  const chat = chatIdParam(scope) ?? "";
  const user = optInt(scope, "user_id") ?? "";
  return `${type}|${chat}|${user}|${optString(params, "language_code") ?? ""}`;
}

const WEBHOOK_PORTS = new Set(["", "80", "88", "443", "8443"]);

const specs: MethodSpec[] = [
  {
    name: "getMe",
    writesToChat: false,
    run: (_params, { state }) => ({
      ...state.bot,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    }),
  },
  {
    name: "getUpdates",
    writesToChat: false,
    run: (params, ctx) => {
      if (ctx.state.webhook) {
        throw new ApiError(
          409,
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        );
      }
      const allowed = optJson(params, "allowed_updates", "allowed updates");
      return ctx.state.updates.poll({
        offset: optInt(params, "offset"),
        limit: optInt(params, "limit"),
        timeoutSeconds: optInt(params, "timeout") ?? 0,
        allowedUpdates: Array.isArray(allowed) ? allowed.filter((k): k is string => typeof k === "string") : undefined,
        signal: ctx.signal,
      });
    },
  },
  {
    name: "setWebhook",
    writesToChat: false,
    run: (params, { state }) => {
      const url = optString(params, "url") ?? "";
      const secretToken = optString(params, "secret_token");
      if (secretToken !== undefined && secretToken !== "" && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken)) {
        throw badRequest("secret token contains unallowed characters");
      }
      const drop = optBool(params, "drop_pending_updates") ?? false;
      if (url === "") {
        const wasSet = state.webhook !== undefined;
        state.webhook = undefined;
        if (drop) state.updates.dropPending();
        return new Described(true, wasSet ? "Webhook was deleted" : "Webhook is already deleted");
      }
      if (!/^https:\/\//i.test(url)) throw badRequest("bad webhook: An HTTPS URL must be provided for webhook");
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw badRequest("bad webhook: Failed to resolve host: Name or service not known");
      }
      if (!WEBHOOK_PORTS.has(parsed.port)) {
        throw badRequest("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443");
      }
      const allowed = optJson(params, "allowed_updates", "allowed updates");
      const maxConnections = optInt(params, "max_connections");
      const same = state.webhook?.url === url;
      state.webhook = {
        url,
        ...(secretToken ? { secretToken } : {}),
        ...(maxConnections !== undefined ? { maxConnections } : {}),
        ...(Array.isArray(allowed) ? { allowedUpdates: allowed.filter((k): k is string => typeof k === "string") } : {}),
      };
      state.updates.terminateWaiting(new ApiError(409, "Conflict: terminated by setWebhook request"));
      if (drop) state.updates.dropPending();
      return new Described(true, same ? "Webhook is already set" : "Webhook was set");
    },
  },
  {
    name: "deleteWebhook",
    writesToChat: false,
    run: (params, { state }) => {
      const wasSet = state.webhook !== undefined;
      state.webhook = undefined;
      if (optBool(params, "drop_pending_updates")) state.updates.dropPending();
      return new Described(true, wasSet ? "Webhook was deleted" : "Webhook is already deleted");
    },
  },
  {
    name: "getWebhookInfo",
    writesToChat: false,
    run: (_params, { state }) => {
      const info: Record<string, unknown> = {
        url: state.webhook?.url ?? "",
        has_custom_certificate: false,
        pending_update_count: state.updates.pendingCount,
      };
      if (state.webhook?.maxConnections !== undefined) info.max_connections = state.webhook.maxConnections;
      if (state.webhook?.allowedUpdates !== undefined) info.allowed_updates = state.webhook.allowedUpdates;
      return info;
    },
  },
  {
    name: "setMyCommands",
    writesToChat: false,
    run: (params, { state }) => {
      const commands = optJson(params, "commands", "bot commands");
      if (!Array.isArray(commands)) throw badRequest("can't parse bot commands JSON object");
      if (commands.length > 100) throw badRequest("too many commands specified");
      const checked = commands.map((item: unknown) => {
        const command = (item ?? {}) as Params;
        const name = optString(command, "command") ?? "";
        const description = optString(command, "description") ?? "";
        if (!/^[a-z0-9_]{1,32}$/.test(name)) throw badRequest("BOT_COMMAND_INVALID");
        if (description.trim() === "" || description.length > 256) throw badRequest("BOT_COMMAND_DESCRIPTION_INVALID");
        return { command: name, description };
      });
      state.commands.set(commandsKey(params), checked);
      return true;
    },
  },
  {
    name: "getMyCommands",
    writesToChat: false,
    run: (params, { state }) => structuredClone(state.commands.get(commandsKey(params)) ?? []),
  },
  {
    name: "deleteMyCommands",
    writesToChat: false,
    run: (params, { state }) => {
      state.commands.delete(commandsKey(params));
      return true;
    },
  },
  {
    name: "getChat",
    writesToChat: false,
    run: (params, ctx) => {
      const chat = chatOf(ctx, params);
      return { ...ctx.state.chatJson(chat), accent_color_id: 0, max_reaction_count: 11 };
    },
  },
  {
    name: "getChatMember",
    writesToChat: false,
    run: (params, ctx) => {
      const chat = chatOf(ctx, params);
      const userId = optInt(params, "user_id");
      if (userId === undefined) throw badRequest("user_id is empty");
      return chatMemberJson(ctx, chat, userId);
    },
  },
  {
    name: "getChatAdministrators",
    writesToChat: false,
    run: (params, ctx) => {
      const chat = chatOf(ctx, params);
      if (chat.type === "private") throw badRequest("there are no administrators in the private chat");
      return [
        ...chat.admins.filter((a) => a.creator).map((a) => adminJson(a.user, true)),
        adminJson(ctx.state.bot, false),
        ...chat.admins.filter((a) => !a.creator).map((a) => adminJson(a.user, false)),
      ];
    },
  },
  {
    name: "createForumTopic",
    writesToChat: true,
    run: (params, ctx) => {
      const chat = forumOf(ctx, params);
      const name = cleanTopicName(optString(params, "name") ?? "");
      if (name === "") throw badRequest("TOPIC_NAME_EMPTY");
      const iconColor = optInt(params, "icon_color") ?? DEFAULT_TOPIC_ICON_COLOR;
      if (!TOPIC_ICON_COLORS.includes(iconColor)) throw badRequest("TOPIC_ICON_COLOR_INVALID");
      const emoji = optString(params, "icon_custom_emoji_id") || undefined;
      const topic = ctx.state.createTopic(chat, ctx.state.bot, name, iconColor, emoji);
      const created = chat.messages.get(topic.threadId);
      if (created) emitService(ctx, created);
      return {
        message_thread_id: topic.threadId,
        name: topic.name,
        icon_color: topic.iconColor,
        ...(topic.iconCustomEmojiId ? { icon_custom_emoji_id: topic.iconCustomEmojiId } : {}),
      };
    },
  },
  {
    name: "editForumTopic",
    writesToChat: true,
    run: (params, ctx) => {
      const chat = forumOf(ctx, params);
      const topic = topicOf(chat, params);
      const payload: Record<string, unknown> = {};
      const rawName = optString(params, "name");
      const name = rawName === undefined ? "" : cleanTopicName(rawName);
      if (name !== "" && name !== topic.name) payload.name = name;
      if ("icon_custom_emoji_id" in params) {
        const emoji = optString(params, "icon_custom_emoji_id") ?? "";
        if (emoji !== (topic.iconCustomEmojiId ?? "")) payload.icon_custom_emoji_id = emoji;
      }
      if (Object.keys(payload).length === 0) throw ERR.topicNotModified();
      if (typeof payload.name === "string") topic.name = payload.name;
      if (typeof payload.icon_custom_emoji_id === "string") {
        if (payload.icon_custom_emoji_id === "") delete topic.iconCustomEmojiId;
        else topic.iconCustomEmojiId = payload.icon_custom_emoji_id;
      }
      addTopicService(ctx, chat, topic, "forum_topic_edited", payload);
      return true;
    },
  },
  {
    name: "closeForumTopic",
    writesToChat: true,
    run: (params, ctx) => {
      const chat = forumOf(ctx, params);
      const topic = topicOf(chat, params);
      if (topic.closed) throw ERR.topicNotModified();
      topic.closed = true;
      addTopicService(ctx, chat, topic, "forum_topic_closed", {});
      return true;
    },
  },
  {
    name: "reopenForumTopic",
    writesToChat: true,
    run: (params, ctx) => {
      const chat = forumOf(ctx, params);
      const topic = topicOf(chat, params);
      if (!topic.closed) throw ERR.topicNotModified();
      topic.closed = false;
      addTopicService(ctx, chat, topic, "forum_topic_reopened", {});
      return true;
    },
  },
  {
    name: "deleteForumTopic",
    writesToChat: true,
    run: (params, ctx) => {
      const chat = forumOf(ctx, params);
      ctx.state.deleteTopic(chat, topicOf(chat, params));
      return true;
    },
  },
  {
    name: "sendMessage",
    writesToChat: true,
    run: (params, ctx) => {
      const chat = chatOf(ctx, params);
      const text = prepareText(params, ctx, false);
      const replyMarkup = prepareMarkup(params);
      const replyTarget = replyTargetOf(chat, params, ctx);
      const threadId = sendThreadOf(chat, params, replyTarget);
      const message = ctx.state.addMessage(chat, {
        threadId,
        from: ctx.state.bot,
        ...text,
        replyMarkup,
        replyToMessageId: replyTarget?.messageId,
        fromBot: true,
      });
      return ctx.state.messageJson(message);
    },
  },
  {
    name: "editMessageText",
    writesToChat: true,
    run: (params, ctx) => {
      const { message } = editable(ctx, params);
      if (message.service) throw badRequest("there is no text in the message to edit");
      const next = prepareText(params, ctx, true);
      const replyMarkup = prepareMarkup(params);
      // Omitting reply_markup removes the keyboard, so "same" includes "both absent".
      if (
        next.text === message.text &&
        jsonEqual(next.entities, message.entities) &&
        jsonEqual(replyMarkup, message.replyMarkup)
      ) {
        throw ERR.notModified();
      }
      applyEdit(message, next, replyMarkup);
      return ctx.state.messageJson(message);
    },
  },
  {
    name: "editMessageReplyMarkup",
    writesToChat: true,
    run: (params, ctx) => {
      const { message } = editable(ctx, params);
      const replyMarkup = prepareMarkup(params);
      if (jsonEqual(replyMarkup, message.replyMarkup)) throw ERR.notModified();
      applyEdit(message, {}, replyMarkup);
      return ctx.state.messageJson(message);
    },
  },
  {
    name: "deleteMessage",
    writesToChat: true,
    run: (params, ctx) => {
      const chat = chatOf(ctx, params);
      const messageId = optInt(params, "message_id");
      if (messageId === undefined) throw badRequest("message identifier is not specified");
      const message = ctx.state.liveMessage(chat, messageId);
      if (!message) throw badRequest("message to delete not found");
      // The creation message is the topic itself; Telegram deletes topics with deleteForumTopic.
      if (message.service?.kind === "forum_topic_created") throw badRequest("message can't be deleted");
      message.deleted = true;
      return true;
    },
  },
  {
    name: "answerCallbackQuery",
    writesToChat: false,
    run: (params, { state }) => {
      const id = optString(params, "callback_query_id");
      if (!id) throw ERR.queryInvalid();
      const text = optString(params, "text");
      if (text !== undefined && text.length > 200) throw badRequest("MESSAGE_TOO_LONG");
      const issued = state.callbackQueries.get(id);
      // A query can be answered once; unknown ids (issued before a reset, say) are let through.
      if (issued?.answered) throw ERR.queryInvalid();
      if (issued) issued.answered = true;
      const url = optString(params, "url");
      const cacheTime = optInt(params, "cache_time");
      state.callbackAnswers.push({
        callbackQueryId: id,
        ...(text !== undefined ? { text } : {}),
        showAlert: optBool(params, "show_alert") ?? false,
        ...(url !== undefined ? { url } : {}),
        ...(cacheTime !== undefined ? { cacheTime } : {}),
        at: Date.now(),
      });
      return true;
    },
  },
];

export const METHODS: ReadonlyMap<string, MethodSpec> = new Map(specs.map((spec) => [spec.name.toLowerCase(), spec]));
