import { conversations, type ConversationFlavor } from "@grammyjs/conversations";
import { Bot, Composer, GrammyError, HttpError, webhookCallback, type Context, type Middleware } from "grammy";
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "node:crypto";
import type { Sql } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { postgresConversationStorage } from "./conversation-storage.ts";
import { helpFeature } from "./features/help.ts";
import { statusFeature } from "./features/status.ts";

export type BotContext = ConversationFlavor<Context>;

export interface BotDeps {
  token: string;
  apiRoot: string;
  chatId: number;
  sql: Sql;
  logger: Logger;
  /** Features wired in main.ts (approvals, modify, trust …), built once the bot's Api exists. */
  features?: (api: Bot<BotContext>["api"]) => Middleware<BotContext>[];
  /** Called on the bot's Api before any feature is built (the outbound transport). */
  configureApi?: (api: Bot<BotContext>["api"]) => void;
}

export const botCommands = [
  { command: "status", description: "What is firing right now" },
  { command: "trust", description: "The trust ladder: runbooks, their record, promote or demote" },
  { command: "lockdown", description: "Every runbook back to manual (\"/lockdown off\" lifts it)" },
  { command: "help", description: "What this bot does and how to use it" },
];

/**
 * The grammY bot: features are composers, handlers stay thin (read ctx, call a service, queue a
 * reply through the outbox). Only the configured forum group is served.
 */
export function createBot(deps: BotDeps): Bot<BotContext> {
  const bot = new Bot<BotContext>(deps.token, { client: { apiRoot: deps.apiRoot } });
  const { logger, sql } = deps;
  deps.configureApi?.(bot.api);

  // Telegram redelivers an update it thinks was not handled; each update_id is handled once.
  bot.use(async (ctx, next) => {
    const inserted = await sql`insert into telegram_updates (update_id) values (${ctx.update.update_id}) on conflict do nothing returning update_id`;
    if (inserted.length === 0) {
      logger.debug({ updateId: ctx.update.update_id }, "duplicate update ignored");
      return;
    }
    await next();
  });

  // Only the configured group is served; say where else the bot is being talked to, which is also
  // how an operator finds the group's id while setting up.
  bot.use(async (ctx, next) => {
    // Who is talking, at debug level: how an operator finds the ids for APPROVER_IDS.
    logger.debug({ updateId: ctx.update.update_id, chatId: ctx.chat?.id, from: ctx.from?.id, name: ctx.from?.first_name }, "telegram update");
    if (ctx.chat && ctx.chat.id !== deps.chatId) {
      logger.info({ chatId: ctx.chat.id, chatType: ctx.chat.type, title: "title" in ctx.chat ? ctx.chat.title : undefined }, "update from a chat that is not TELEGRAM_CHAT_ID; ignored");
    }
    await next();
  });
  const group = bot.filter((ctx) => ctx.chat?.id === deps.chatId);
  const features = new Composer<BotContext>();
  // One conversation per person per topic: two people modifying in the same group do not collide.
  features.use(
    conversations<BotContext, Context>({
      storage: {
        type: "key",
        adapter: postgresConversationStorage(sql),
        getStorageKey: (ctx) => {
          const message = ctx.msg;
          const thread = message && "is_topic_message" in message && message.is_topic_message ? message.message_thread_id : "general";
          return ctx.chat && ctx.from ? `${ctx.chat.id}:${thread}:${ctx.from.id}` : undefined;
        },
      },
    }),
  );
  features.use(statusFeature({ sql, chatId: deps.chatId }));
  features.use(helpFeature({ sql, chatId: deps.chatId }));
  for (const feature of deps.features?.(bot.api) ?? []) features.use(feature);
  // A press nobody recognised (a forged button, one from an old version): say so, never leave the spinner.
  features.on("callback_query:data", async (ctx) => {
    await ctx.answerCallbackQuery({ text: "This button is not known (any more).", show_alert: true });
  });
  group.errorBoundary((error) => {
    logger.error({ err: error.error, updateId: error.ctx.update.update_id }, "telegram handler failed");
  }, features);

  bot.catch((error) => {
    const e = error.error;
    if (e instanceof GrammyError || e instanceof HttpError) logger.error({ err: e }, "telegram call failed in a handler");
    else logger.error({ err: e }, "telegram update failed");
  });
  return bot;
}

/** POST /telegram: check Telegram's secret header before anything else, then let grammY handle it. */
export function telegramWebhookHandler(bot: Bot<BotContext>, secret: string): MiddlewareHandler {
  const handle = webhookCallback(bot, "hono", { secretToken: secret, onTimeout: "return", timeoutMilliseconds: 9000 });
  const expected = Buffer.from(secret);
  return async (c) => {
    const given = Buffer.from(c.req.header("x-telegram-bot-api-secret-token") ?? "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return c.json({ error: "unauthorized", message: "wrong or missing X-Telegram-Bot-Api-Secret-Token" }, 401);
    }
    let update: unknown;
    try {
      update = JSON.parse(await c.req.text());
    } catch {
      return c.json({ error: "invalid_payload", message: "body is not valid JSON" }, 400);
    }
    if (typeof update !== "object" || update === null || typeof (update as { update_id?: unknown }).update_id !== "number") {
      return c.json({ error: "invalid_payload", message: "body is not a Telegram Update (no numeric update_id)" }, 400);
    }
    return (await handle(c)) as Response;
  };
}
