import { randomUUID } from "node:crypto";
import { GrammyError, HttpError, type Api } from "grammy";
import type { Sql, Tx } from "../../db/client.ts";
import type { CardKind } from "../../db/schema.ts";
import { errorMessage } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { Metrics } from "../../metrics.ts";
import { isThreadGone, isTopicClosed, type TopicRegistry } from "../../topics/registry.ts";
import type { ChatRateLimiter } from "../rate-limit.ts";
import { sleep } from "../../util/sleep.ts";
import type { Transport } from "../transport.ts";
import { escapeHtml } from "../render/html.ts";
import { OUTBOX_CHANNEL, refreshRollup } from "./cards.ts";

export interface DispatcherDeps {
  sql: Sql;
  api: Api;
  transport: Transport;
  limiter: ChatRateLimiter;
  topics: TopicRegistry;
  chatId: number;
  /** Pending new alert cards in one topic at which they are folded into a rollup card. */
  rollupThreshold: number;
  logger: Logger;
  metrics?: Metrics;
  /** How long a claimed outbox row stays ours before another dispatcher may take it over. */
  leaseSeconds?: number;
  /** A rollup that has not taken in new alerts for this long is left as it is; the next storm gets a new one. */
  rollupReuseMinutes?: number;
  idlePollMs?: number;
}

interface Claimed {
  id: number;
  card_id: number;
  topic_key: string | null;
  version: number;
  attempts: number;
}

interface CardRow {
  id: number;
  kind: CardKind;
  topic_key: string | null;
  target_thread_id: number | null;
  reply_to_message_id: number | null;
  reply_to_card_id: number | null;
  rollup_id: number | null;
  text: string;
  reply_markup: unknown;
  content_hash: string;
  version: number;
  message_id: number | null;
  thread_id: number | null;
}

export interface Dispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Handles one outbox row if one is due; false when there was nothing to do. */
  runOnce(): Promise<boolean>;
}

/**
 * Brings Telegram in line with the cards table, one outbox row at a time, within the chat's rate
 * limit. Rows are leased (not locked) while a call is in flight, so a crashed process's work is
 * picked up by another after the lease. When new cards pile up for one topic, they are folded into
 * one rollup card instead of being sent one by one.
 */
export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { sql, api, chatId, logger } = deps;
  const owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
  // Longer than one delivery takes (a limiter wait of at most 5 s plus the transport's inline
  // retries, about 10 s), so a live dispatcher never loses its row; short enough that the rows of a
  // crashed process are picked up again within half a minute. A call still hanging near the end of
  // the lease is abandoned, so that another dispatcher never sends the same row while it waits.
  const leaseSeconds = deps.leaseSeconds ?? 30;
  const leaseMarginMs = Math.min(5000, (leaseSeconds * 1000) / 2);
  const rollupReuseMinutes = deps.rollupReuseMinutes ?? 10;
  // Spaced-out slots (3 s at 20/min) are waited for here; only longer waits go back to Postgres.
  const maxInlineWaitMs = 5000;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  const abort = new AbortController();

  async function claim(): Promise<Claimed | undefined> {
    const [row] = await sql<Claimed[]>`
      update outbox set lease_until = now() + ${leaseSeconds} * interval '1 second', lease_owner = ${owner}
      where id = (
        select id from outbox
        where chat_id = ${chatId} and not_before <= now() and (lease_until is null or lease_until < now())
        order by priority, id
        for update skip locked
        limit 1)
      returning id, card_id, topic_key, version, attempts`;
    return row;
  }

  /** Gives the row back, due again after `delayMs`. With an error, it counts as a failed attempt. */
  async function release(row: Claimed, delayMs: number, error?: string): Promise<void> {
    await sql`
      update outbox set lease_until = null, lease_owner = null,
             not_before = now() + ${Math.max(0, Math.round(delayMs))} * interval '1 millisecond',
             attempts = attempts + ${error === undefined ? 0 : 1},
             last_error = coalesce(${error ?? null}, last_error)
      where id = ${row.id} and lease_owner = ${owner}`;
  }

  const loadCard = async (id: number) => (await sql<CardRow[]>`select * from cards where id = ${id}`)[0];

  async function pendingNewCards(topicKey: string): Promise<number> {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from outbox o join cards c on c.id = o.card_id
      where o.chat_id = ${chatId} and o.topic_key = ${topicKey} and c.kind = 'alert' and c.message_id is null and c.rollup_id is null`;
    return row!.n;
  }

  /** The topic's rollup that took in a backlog recently: a storm still going on. */
  async function hotRollup(tx: Tx, topicKey: string): Promise<number | undefined> {
    const [open] = await tx<{ id: number }[]>`
      select id from cards
      where chat_id = ${chatId} and topic_key = ${topicKey} and kind = 'rollup' and status = 'open'
        and last_folded_at > now() - ${rollupReuseMinutes} * interval '1 minute'
      order by id desc limit 1`;
    return open?.id;
  }

  /**
   * Folds the pending new alert cards of a topic into the topic's rollup card: when at least
   * `rollupThreshold` are waiting, or, while a storm's rollup is hot, any that arrive. Only a real
   * backlog keeps a rollup hot, so stragglers cannot keep one alive forever.
   */
  async function fold(topicKey: string, own: Claimed): Promise<boolean> {
    return sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext(${`topicops:fold:${chatId}:${topicKey}`}))`;
      // Rows another dispatcher is sending right now are left alone: they will be their own cards.
      const members = await tx<{ card_id: number }[]>`
        select o.card_id from outbox o join cards c on c.id = o.card_id
        where o.chat_id = ${chatId} and o.topic_key = ${topicKey} and c.kind = 'alert' and c.message_id is null and c.rollup_id is null
          and (o.lease_until is null or o.lease_until < now() or o.id = ${own.id})
        order by c.id
        for update of c, o`;
      const backlog = members.length >= deps.rollupThreshold;
      let rollupId = await hotRollup(tx, topicKey);
      if (members.length === 0 || (!backlog && rollupId === undefined)) return false;
      rollupId ??= await newRollup(tx, topicKey);
      const ids = members.map((m) => m.card_id);
      await tx`update cards set rollup_id = ${rollupId}, updated_at = now() where id in ${tx(ids)}`;
      await tx`delete from outbox where card_id in ${tx(ids)}`;
      if (backlog) await tx`update cards set last_folded_at = now() where id = ${rollupId}`;
      await refreshRollup(tx, rollupId);
      logger.info({ topic: topicKey, folded: ids.length, rollupId }, "folded pending alert cards into a rollup");
      return true;
    });
  }

  async function newRollup(tx: Tx, topicKey: string): Promise<number> {
    const [created] = await tx<{ id: number }[]>`
      insert into cards (chat_id, kind, topic_key, status, text, content_hash, version, last_folded_at)
      values (${chatId}, 'rollup', ${topicKey}, 'open', '', '', 0, now())
      returning id`;
    return created!.id;
  }

  async function threadOf(card: CardRow): Promise<number | undefined> {
    if (card.topic_key) return deps.topics.threadFor(card.topic_key);
    return card.target_thread_id ?? undefined;
  }

  async function deliver(row: Claimed, lease: AbortSignal): Promise<void> {
    let card = await loadCard(row.card_id);
    if (!card || (card.kind === "alert" && card.rollup_id !== null)) {
      // Folded into a rollup (or gone) after it was queued: nothing to send for it.
      await sql`delete from outbox where id = ${row.id}`;
      return;
    }
    if (card.kind === "alert" && card.message_id === null && card.topic_key) {
      // A lock-free look first, so that an ordinary new card costs no transaction or lock. fold()
      // asks the same questions again under its lock, and must: another dispatcher may have folded
      // these cards or opened a rollup since, and rows it is sending right now do not count.
      const pending = await pendingNewCards(card.topic_key);
      const storm = pending >= deps.rollupThreshold || (await hotRollup(sql, card.topic_key)) !== undefined;
      if (storm && (await fold(card.topic_key, row))) return;
    }

    // A reply to a card that is not on Telegram yet waits for it (it is queued too, and goes first
    // by priority or is being folded); a card folded into a rollup is answered under the rollup.
    let replyTo = card.reply_to_message_id;
    if (card.message_id === null && card.reply_to_card_id !== null) {
      const [target] = await sql<{ message_id: number | null; rollup_id: number | null; queued: boolean }[]>`
        select c.message_id, c.rollup_id, exists (select 1 from outbox o where o.card_id = c.id) as queued
        from cards c where c.id = ${card.reply_to_card_id}`;
      const [rollup] = target?.rollup_id ? await sql<{ message_id: number | null }[]>`select message_id from cards where id = ${target.rollup_id}` : [];
      replyTo = target?.message_id ?? rollup?.message_id ?? null;
      if (replyTo === null && target && (target.queued || target.rollup_id !== null)) return release(row, 1000);
    }
    // The topic first: creating it is a Telegram call of its own, which must not happen between
    // taking this send's slot and using it (two calls would go out back to back).
    if (card.message_id === null) await threadOf(card);
    // Then take the slot, then read the card: what goes out is the newest content, not what it
    // was before a wait. A long wait is not spent here: the row goes back to Postgres, due when the
    // slot is, and the loop meanwhile keeps folding new cards that pile up (that is when they do).
    for (;;) {
      const wait = await deps.limiter.tryAcquire(chatId);
      if (wait <= 0) break;
      if (wait > maxInlineWaitMs) return release(row, wait);
      await sleep(wait, abort.signal);
    }
    card = (await loadCard(row.card_id))!;
    const isNew = card.message_id === null;
    const threadId = isNew ? await threadOf(card) : (card.thread_id ?? undefined);
    const common = {
      chat_id: chatId,
      text: card.text,
      parse_mode: "HTML" as const,
      link_preview_options: { is_disabled: true },
      ...(card.reply_markup ? { reply_markup: card.reply_markup as never } : {}),
    };
    try {
      let messageId = card.message_id;
      if (isNew) {
        const payload = {
          ...common,
          ...(threadId !== undefined ? { message_thread_id: threadId } : {}),
          ...(replyTo ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
        };
        deps.transport.markAcquired(payload);
        const sent = await api.raw.sendMessage(payload, grammySignal(lease));
        messageId = sent.message_id;
      } else {
        const payload = { ...common, message_id: card.message_id! };
        deps.transport.markAcquired(payload);
        try {
          await api.raw.editMessageText(payload, grammySignal(lease));
        } catch (error) {
          if (!(error instanceof GrammyError && /message is not modified/i.test(error.description))) throw error;
        }
      }
      await sql.begin(async (tx) => {
        await tx`
          update cards set message_id = ${messageId}, thread_id = ${threadId ?? null}, sent_version = greatest(sent_version, ${card!.version}),
                 sent_hash = ${card!.content_hash}, sent_at = now()
          where id = ${card!.id}`;
        const [done] = await tx<{ id: number }[]>`delete from outbox where id = ${row.id} and version <= ${card!.version} returning id`;
        // Changed while we were sending: keep the row, ready to go again.
        if (!done) await tx`update outbox set lease_until = null, lease_owner = null, attempts = 0, last_error = null where id = ${row.id}`;
      });
      deps.metrics?.cardsSent.inc({ kind: card.kind, op: isNew ? "send" : "edit" });
    } catch (error) {
      await recover(row, card, threadId, error);
    }
  }

  async function recover(row: Claimed, card: CardRow, threadId: number | undefined, error: unknown): Promise<void> {
    const description = error instanceof GrammyError ? error.description : errorMessage(error);
    if (isThreadGone(error) && card.message_id === null) {
      if (card.topic_key && threadId !== undefined) await deps.topics.recreate(card.topic_key, threadId);
      else await sql`update cards set target_thread_id = null where id = ${card.id}`; // a reply whose thread is gone goes to General
      return release(row, 0, description);
    }
    if (isTopicClosed(error) && card.topic_key && threadId !== undefined) {
      await deps.topics.reopen(card.topic_key, threadId);
      return release(row, 0, description);
    }
    if (error instanceof GrammyError && /message to edit not found|MESSAGE_ID_INVALID|message can't be edited|thread not found/i.test(description)) {
      // Deleted by someone (or with its topic): post it again as a new message.
      logger.warn({ cardId: card.id, messageId: card.message_id }, "card message is gone; posting it again");
      await sql`update cards set message_id = null, thread_id = null where id = ${card.id}`;
      return release(row, 0, description);
    }
    if (error instanceof GrammyError && error.error_code === 429) {
      const seconds = error.parameters.retry_after ?? 5;
      return release(row, seconds * 1000, description);
    }
    if (error instanceof GrammyError && /can't parse entities/i.test(description)) {
      // Our HTML was refused: show the same words as plain text rather than nothing.
      logger.error({ cardId: card.id, description }, "telegram refused the card's HTML; sending it as plain text");
      const plain = escapeHtml(htmlToPlainText(card.text));
      await sql`update cards set text = ${plain}, version = version + 1 where id = ${card.id}`;
      await sql`update outbox set version = (select version from cards where id = ${card.id}) where id = ${row.id}`;
      return release(row, 0, description);
    }
    const delay = backoffMs(row.attempts + 1);
    const level = error instanceof HttpError || (error instanceof GrammyError && error.error_code >= 500) ? "warn" : "error";
    logger[level]({ cardId: card.id, attempts: row.attempts, retryInMs: delay, err: error }, "telegram call failed; will retry");
    return release(row, delay, description);
  }

  async function runOnce(): Promise<boolean> {
    const row = await claim();
    if (!row) return false;
    try {
      await deliver(row, AbortSignal.any([abort.signal, AbortSignal.timeout(leaseSeconds * 1000 - leaseMarginMs)]));
    } catch (error) {
      if (!running && abort.signal.aborted) {
        await release(row, 0).catch(() => {});
        return false;
      }
      logger.error({ err: error, outboxId: row.id }, "outbox delivery failed");
      await release(row, backoffMs(row.attempts + 1), errorMessage(error)).catch(() => {});
    }
    return true;
  }

  return {
    runOnce,
    async start() {
      if (running) return;
      running = true;
      const listener = await sql.listen(OUTBOX_CHANNEL, (payload) => {
        if (payload === String(chatId)) wake?.();
      });
      unlisten = () => listener.unlisten();
      loop = (async () => {
        while (running) {
          let worked = false;
          try {
            worked = await runOnce();
          } catch (error) {
            if (!running) break;
            logger.error({ err: error }, "outbox loop error");
            await sleep(1000).catch(() => {});
          }
          if (!worked && running) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, deps.idlePollMs ?? 1000);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            wake = undefined;
          }
        }
      })();
    },
    async stop() {
      running = false;
      abort.abort(new Error("dispatcher stopping"));
      wake?.();
      await loop;
      await unlisten?.().catch(() => {});
    },
  };
}

/** grammY types signals with the abort-controller polyfill; at run time it takes the global one. */
function grammySignal(signal: AbortSignal): Parameters<Api["raw"]["sendMessage"]>[1] {
  return signal as unknown as Parameters<Api["raw"]["sendMessage"]>[1];
}

function backoffMs(attempts: number): number {
  return Math.min(10 * 60_000, 2_000 * 2 ** Math.min(attempts, 10));
}

function htmlToPlainText(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
}
