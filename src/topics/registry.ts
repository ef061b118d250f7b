import { GrammyError, type Api } from "grammy";
import type { Sql, Tx } from "../db/client.ts";
import type { Logger } from "../logger.ts";

export interface StandingTopic {
  key: string;
  name: string;
  iconColor: number;
}

export interface TopicRegistryDeps {
  sql: Sql;
  api: Api;
  chatId: number;
  topics: readonly StandingTopic[];
  defaultKey: string;
  logger: Logger;
}

export interface TopicRegistry {
  /** Makes sure every standing topic exists in the chat (start-up); renames ones whose name changed. */
  ensureAll(): Promise<void>;
  /** The thread of a topic, creating the topic on first use. Unknown keys go to the default topic. */
  threadFor(key: string): Promise<number>;
  /** The topic's thread was deleted in Telegram: create it again (once, even with many replicas). */
  recreate(key: string, staleThreadId: number): Promise<number>;
  /** The topic was closed by someone: reopen it so the bot can post. */
  reopen(key: string, threadId: number): Promise<void>;
  /** The key a card for `key` actually goes to (the default topic when `key` is no longer configured). */
  resolveKey(key: string): string;
}

/**
 * Topic ids live in Postgres. Creation runs under a per-topic advisory lock in a transaction, so
 * replicas starting together (or recovering from a deleted topic together) create it once.
 */
export function createTopicRegistry(deps: TopicRegistryDeps): TopicRegistry {
  const { sql, api, chatId, logger } = deps;
  const byKey = new Map(deps.topics.map((t) => [t.key, t]));
  const resolveKey = (key: string) => (byKey.has(key) ? key : deps.defaultKey);

  const lock = (tx: Tx, key: string) => tx`select pg_advisory_xact_lock(hashtext(${`topicops:topic:${chatId}:${key}`}))`;

  async function create(tx: Tx, topic: StandingTopic): Promise<number> {
    const created = await api.createForumTopic(chatId, topic.name, { icon_color: topic.iconColor as never });
    await tx`
      insert into topics (chat_id, key, thread_id, name, icon_color) values (${chatId}, ${topic.key}, ${created.message_thread_id}, ${topic.name}, ${topic.iconColor})
      on conflict (chat_id, key) do update set thread_id = excluded.thread_id, name = excluded.name, icon_color = excluded.icon_color, updated_at = now()`;
    logger.info({ topic: topic.key, threadId: created.message_thread_id }, "created forum topic");
    return created.message_thread_id;
  }

  async function threadFor(key: string): Promise<number> {
    const topic = byKey.get(resolveKey(key))!;
    const [row] = await sql<{ thread_id: number }[]>`select thread_id from topics where chat_id = ${chatId} and key = ${topic.key}`;
    if (row) return row.thread_id;
    return sql.begin(async (tx) => {
      await lock(tx, topic.key);
      const [again] = await tx<{ thread_id: number }[]>`select thread_id from topics where chat_id = ${chatId} and key = ${topic.key}`;
      return again ? again.thread_id : create(tx, topic);
    });
  }

  return {
    resolveKey,
    threadFor,
    async ensureAll() {
      for (const topic of deps.topics) {
        const [row] = await sql<{ thread_id: number; name: string }[]>`
          select thread_id, name from topics where chat_id = ${chatId} and key = ${topic.key}`;
        if (!row) {
          await threadFor(topic.key);
          continue;
        }
        if (row.name !== topic.name) {
          try {
            await api.editForumTopic(chatId, row.thread_id, { name: topic.name });
            await sql`update topics set name = ${topic.name}, updated_at = now() where chat_id = ${chatId} and key = ${topic.key}`;
            logger.info({ topic: topic.key }, "renamed forum topic");
          } catch (error) {
            if (isThreadGone(error)) await recreate(topic.key, row.thread_id);
            else throw error;
          }
        }
      }
    },
    recreate,
    async reopen(key, threadId) {
      try {
        await api.reopenForumTopic(chatId, threadId);
        logger.info({ topic: key, threadId }, "reopened closed forum topic");
      } catch (error) {
        // Already open (someone reopened it meanwhile): nothing to do.
        if (error instanceof GrammyError && /TOPIC_NOT_MODIFIED/i.test(error.description)) return;
        throw error;
      }
    },
  };

  async function recreate(key: string, staleThreadId: number): Promise<number> {
    const topic = byKey.get(resolveKey(key))!;
    return sql.begin(async (tx) => {
      await lock(tx, topic.key);
      const [row] = await tx<{ thread_id: number }[]>`select thread_id from topics where chat_id = ${chatId} and key = ${topic.key}`;
      // Another replica already replaced it.
      if (row && row.thread_id !== staleThreadId) return row.thread_id;
      logger.warn({ topic: topic.key, staleThreadId }, "forum topic is gone; creating it again");
      return create(tx, topic);
    });
  }
}

/** Telegram's ways of saying a topic no longer exists. */
export function isThreadGone(error: unknown): boolean {
  return error instanceof GrammyError && /message thread not found|TOPIC_DELETED|TOPIC_ID_INVALID/i.test(error.description);
}

export function isTopicClosed(error: unknown): boolean {
  return error instanceof GrammyError && /TOPIC_CLOSED/i.test(error.description);
}
