import type { Chat, Message, MessageEntity, Update, User } from "grammy/types";
import { findBotCommands } from "./format.ts";
import { UpdateQueue } from "./updates.ts";

/** The six colours Telegram offers for topic icons; 7322096 (blue) is the default. */
export const TOPIC_ICON_COLORS: readonly number[] = [7322096, 16766590, 13338331, 9367192, 16749490, 16478047];
export const DEFAULT_TOPIC_ICON_COLOR = 7322096;

export interface FakeChatOptions {
  id: number;
  title?: string;
  isForum?: boolean;
  /** People getChatAdministrators/getChatMember report as admins (the bot always is one). */
  admins?: Array<{ id: number; first_name?: string; username?: string; creator?: boolean }>;
}

export interface FakeTopic {
  threadId: number;
  name: string;
  iconColor: number;
  iconCustomEmojiId?: string;
  closed: boolean;
  deleted: boolean;
}

export type ServiceKind = "forum_topic_created" | "forum_topic_edited" | "forum_topic_closed" | "forum_topic_reopened";

export interface FakeMessage {
  messageId: number;
  chatId: number;
  /** The topic; absent for the General topic. */
  threadId?: number;
  /** Plain text after entity parsing and Telegram's trimming. */
  text: string;
  /** The `text` parameter exactly as sent, when it was sent with parse_mode HTML. */
  html?: string;
  parseMode?: string;
  entities: MessageEntity[];
  replyMarkup?: unknown;
  /** Unix seconds, like Message.date. */
  date: number;
  editDate?: number;
  edits: number;
  /** Plain text before each edit, oldest first (one entry per edit). */
  history: string[];
  /** Only an explicit reply; the implicit reply to a topic's creation message is not counted. */
  replyToMessageId?: number;
  fromBot: boolean;
  /** Set for service messages (topic created/edited/closed/reopened); `messages()` leaves them out. */
  service?: ServiceKind;
}

export interface StoredMessage {
  messageId: number;
  chatId: number;
  threadId: number | undefined;
  from: User;
  date: number;
  editDate: number | undefined;
  text: string;
  html: string | undefined;
  parseMode: string | undefined;
  entities: MessageEntity[];
  replyMarkup: unknown;
  edits: number;
  history: string[];
  replyToMessageId: number | undefined;
  fromBot: boolean;
  service: { kind: ServiceKind; payload: Record<string, unknown> } | undefined;
  deleted: boolean;
}

export interface TopicState extends FakeTopic {
  createdDate: number;
}

export interface ChatState {
  id: number;
  title: string;
  isForum: boolean;
  type: "supergroup" | "private";
  admins: Array<{ user: User; creator: boolean }>;
  // Ids start at 2: in a real forum message 1 is the group's own creation/migration service message.
  nextMessageId: number;
  topics: Map<number, TopicState>;
  messages: Map<number, StoredMessage>;
}

export interface NewMessage {
  threadId?: number | undefined;
  from: User;
  text: string;
  entities: MessageEntity[];
  html?: string | undefined;
  parseMode?: string | undefined;
  replyMarkup?: unknown;
  replyToMessageId?: number | undefined;
  fromBot: boolean;
  service?: { kind: ServiceKind; payload: Record<string, unknown> } | undefined;
}

export interface CallbackAnswer {
  callbackQueryId: string;
  text?: string;
  showAlert: boolean;
  url?: string;
  cacheTime?: number;
  at: number;
}

export interface UserInit {
  id: number;
  first_name?: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

function clone<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

/** Everything the fake remembers: chats, topics, messages, updates and bot settings. */
export class FakeState {
  readonly bot: User;
  readonly chats = new Map<number, ChatState>();
  readonly users = new Map<number, User>();
  readonly updates = new UpdateQueue();
  readonly callbackQueries = new Map<string, { answered: boolean }>();
  readonly callbackAnswers: CallbackAnswer[] = [];
  readonly commands = new Map<string, unknown[]>();
  webhook: { url: string; secretToken?: string; maxConnections?: number; allowedUpdates?: string[] } | undefined;
  private nextCallbackSeq = 1;
  private readonly chatOptions: FakeChatOptions[];

  constructor(bot: User, chats: FakeChatOptions[]) {
    this.bot = bot;
    this.chatOptions = chats;
    this.initChats();
  }

  reset(): void {
    this.chats.clear();
    this.users.clear();
    this.updates.reset();
    this.callbackQueries.clear();
    this.callbackAnswers.length = 0;
    this.commands.clear();
    this.webhook = undefined;
    this.initChats();
  }

  private initChats(): void {
    for (const options of this.chatOptions) {
      const admins = (options.admins ?? []).map((admin) => ({
        user: {
          id: admin.id,
          is_bot: false,
          first_name: admin.first_name ?? `Admin ${admin.id}`,
          ...(admin.username ? { username: admin.username } : {}),
        },
        creator: admin.creator ?? false,
      }));
      for (const admin of admins) this.users.set(admin.user.id, admin.user);
      this.chats.set(options.id, {
        id: options.id,
        title: options.title ?? "topicops test forum",
        isForum: options.isForum ?? options.id < 0,
        type: options.id > 0 ? "private" : "supergroup",
        admins,
        nextMessageId: 2,
        topics: new Map(),
        messages: new Map(),
      });
    }
  }

  /** The chat for a test-side helper; a wrong id is a bug in the test, so it throws. */
  chatForTest(chatId: number): ChatState {
    const chat = this.chats.get(chatId);
    if (!chat) throw new Error(`fake-telegram: no chat ${chatId}; configure it in startFakeTelegram({ chats })`);
    return chat;
  }

  chatJson(chat: ChatState): Chat {
    if (chat.type === "private") return { id: chat.id, first_name: chat.title, type: "private" };
    return chat.isForum
      ? { id: chat.id, title: chat.title, is_forum: true, type: "supergroup" }
      : { id: chat.id, title: chat.title, type: "supergroup" };
  }

  addMessage(chat: ChatState, init: NewMessage): StoredMessage {
    const message: StoredMessage = {
      messageId: chat.nextMessageId++,
      chatId: chat.id,
      threadId: init.threadId,
      from: init.from,
      date: unixNow(),
      editDate: undefined,
      text: init.text,
      html: init.html,
      parseMode: init.parseMode,
      entities: init.entities,
      replyMarkup: init.replyMarkup,
      edits: 0,
      history: [],
      replyToMessageId: init.replyToMessageId,
      fromBot: init.fromBot,
      service: init.service,
      deleted: false,
    };
    chat.messages.set(message.messageId, message);
    return message;
  }

  /** Live (not deleted) message, or undefined. */
  liveMessage(chat: ChatState, messageId: number): StoredMessage | undefined {
    const message = chat.messages.get(messageId);
    return message && !message.deleted ? message : undefined;
  }

  createTopic(chat: ChatState, from: User, name: string, iconColor: number, iconCustomEmojiId?: string): TopicState {
    const payload: Record<string, unknown> = { name, icon_color: iconColor };
    if (iconCustomEmojiId) payload.icon_custom_emoji_id = iconCustomEmojiId;
    const threadId = chat.nextMessageId;
    const created = this.addMessage(chat, {
      threadId,
      from,
      text: "",
      entities: [],
      fromBot: from.id === this.bot.id,
      service: { kind: "forum_topic_created", payload },
    });
    const topic: TopicState = {
      threadId,
      name,
      iconColor,
      ...(iconCustomEmojiId ? { iconCustomEmojiId } : {}),
      closed: false,
      deleted: false,
      createdDate: created.date,
    };
    chat.topics.set(threadId, topic);
    return topic;
  }

  /** A service message inside a topic (closed/reopened/edited), as Telegram posts one. */
  addServiceMessage(
    chat: ChatState,
    threadId: number,
    from: User,
    kind: ServiceKind,
    payload: Record<string, unknown>,
  ): StoredMessage {
    const fromBot = from.id === this.bot.id;
    return this.addMessage(chat, { threadId, from, text: "", entities: [], fromBot, service: { kind, payload } });
  }

  deleteTopic(chat: ChatState, topic: TopicState): void {
    topic.deleted = true;
    for (const message of chat.messages.values()) {
      if (message.threadId === topic.threadId) message.deleted = true;
    }
  }

  /** Message as the Bot API serialises it; `reply_to_message` is never nested further (Bot API rule). */
  messageJson(message: StoredMessage, withReply = true): Message {
    const chat = this.chatForTest(message.chatId);
    const json: Record<string, unknown> = {
      message_id: message.messageId,
      from: clone(message.from),
      chat: this.chatJson(chat),
      date: message.date,
    };
    if (message.threadId !== undefined) json.message_thread_id = message.threadId;
    if (withReply) {
      const replyTo =
        message.replyToMessageId ??
        (message.threadId !== undefined && message.threadId !== message.messageId ? message.threadId : undefined);
      const target = replyTo === undefined ? undefined : this.liveMessage(chat, replyTo);
      if (target) json.reply_to_message = this.messageJson(target, false);
    }
    if (message.editDate !== undefined) json.edit_date = message.editDate;
    if (message.service) {
      json[message.service.kind] = clone(message.service.payload);
    } else {
      json.text = message.text;
      if (message.entities.length > 0) json.entities = clone(message.entities);
    }
    if (message.replyMarkup !== undefined) json.reply_markup = clone(message.replyMarkup);
    if (message.threadId !== undefined) json.is_topic_message = true;
    return json as unknown as Message;
  }

  fakeMessage(message: StoredMessage): FakeMessage {
    const view: FakeMessage = {
      messageId: message.messageId,
      chatId: message.chatId,
      text: message.text,
      entities: clone(message.entities),
      date: message.date,
      edits: message.edits,
      history: [...message.history],
      fromBot: message.fromBot,
    };
    if (message.threadId !== undefined) view.threadId = message.threadId;
    if (message.html !== undefined) view.html = message.html;
    if (message.parseMode !== undefined) view.parseMode = message.parseMode;
    if (message.replyMarkup !== undefined) view.replyMarkup = clone(message.replyMarkup);
    if (message.editDate !== undefined) view.editDate = message.editDate;
    if (message.replyToMessageId !== undefined) view.replyToMessageId = message.replyToMessageId;
    if (message.service) view.service = message.service.kind;
    return view;
  }

  rememberUser(init: UserInit): User {
    const known = this.users.get(init.id);
    const user: User = {
      id: init.id,
      is_bot: false,
      first_name: init.first_name ?? known?.first_name ?? "User",
    };
    const lastName = init.last_name ?? known?.last_name;
    const username = init.username ?? known?.username;
    const languageCode = init.language_code ?? known?.language_code;
    if (lastName !== undefined) user.last_name = lastName;
    if (username !== undefined) user.username = username;
    if (languageCode !== undefined) user.language_code = languageCode;
    this.users.set(user.id, user);
    return user;
  }

  userMessage(opts: {
    from: UserInit;
    text: string;
    threadId?: number;
    chatId: number;
    replyToMessageId?: number;
  }): Update {
    const chat = this.chatForTest(opts.chatId);
    let threadId = opts.threadId;
    if (opts.replyToMessageId !== undefined) {
      const target = this.liveMessage(chat, opts.replyToMessageId);
      if (!target) throw new Error(`fake-telegram: message ${opts.replyToMessageId} does not exist in chat ${chat.id}`);
      // Replying to a message in a topic puts the reply in that topic.
      threadId ??= target.threadId;
    }
    if (threadId !== undefined) {
      const topic = chat.topics.get(threadId);
      if (!topic || topic.deleted) throw new Error(`fake-telegram: topic ${threadId} does not exist in chat ${chat.id}`);
    }
    const stored = this.addMessage(chat, {
      threadId,
      from: this.rememberUser(opts.from),
      text: opts.text,
      entities: findBotCommands(opts.text),
      replyToMessageId: opts.replyToMessageId,
      fromBot: false,
    });
    return { update_id: this.updates.allocateId(), message: this.messageJson(stored) } as Update;
  }

  callbackQuery(opts: { from: UserInit; messageId: number; data: string; chatId: number }): Update {
    const chat = this.chatForTest(opts.chatId);
    const from = this.rememberUser(opts.from);
    const stored = this.liveMessage(chat, opts.messageId);
    // A deleted (or unknown) message reaches the bot as an InaccessibleMessage: date 0, no content.
    const message = stored ? this.messageJson(stored) : { chat: this.chatJson(chat), message_id: opts.messageId, date: 0 };
    const id = (BigInt(this.bot.id) * 4_294_967_296n + BigInt(this.nextCallbackSeq++)).toString();
    this.callbackQueries.set(id, { answered: false });
    return {
      update_id: this.updates.allocateId(),
      callback_query: { id, from, message, chat_instance: chatInstance(chat.id), data: opts.data },
    } as Update;
  }
}

// Stable per chat, and shaped like Telegram's: a signed 64-bit number as a string.
function chatInstance(chatId: number): string {
  const mixed = (BigInt(Math.abs(chatId)) * 0x9e3779b97f4a7c15n) & 0x7fffffffffffffffn;
  return (-mixed).toString();
}
