import { createHash } from "node:crypto";
import type { Tx } from "../../db/client.ts";
import type { CardKind, CardSummary } from "../../db/schema.ts";
import { rankOf } from "../render/alert-card.ts";
import { renderRollupCard } from "../render/rollup-card.ts";
import { sameRecord } from "../../util/same-record.ts";

/** Channel the dispatcher LISTENs on; the payload is the chat id. */
export const OUTBOX_CHANNEL = "topicops_outbox";

export function contentHash(text: string, replyMarkup: unknown): string {
  return createHash("sha256")
    .update(text)
    .update("\u0000")
    .update(JSON.stringify(replyMarkup ?? null))
    .digest("base64url")
    .slice(0, 22);
}

/**
 * New cards before edits; within each, the most severe first. Rollups and replies to people come
 * first; notices about a card (a run's progress, a level change) after new alerts, so a storm of
 * runs cannot keep a new critical alert waiting.
 */
export function outboxPriority(card: { messageId: number | null; severity: string | null; kind: CardKind; aboutCard?: boolean }): number {
  const base = card.messageId === null ? 0 : 10;
  if (card.kind === "alert") return base + rankOf(card.severity);
  if (card.kind === "notice" && card.aboutCard) return base + 5;
  return base;
}

export interface AlertCardWrite {
  chatId: number;
  groupId: number;
  episode: number;
  topicKey: string;
  status: "open" | "final";
  severity: string | null;
  summary: CardSummary;
  text: string;
  replyMarkup?: unknown;
}

interface CardRow {
  id: number;
  chat_id: number;
  kind: CardKind;
  reply_to_card_id?: number | null;
  topic_key: string | null;
  rollup_id: number | null;
  message_id: number | null;
  content_hash: string;
  version: number;
  severity: string | null;
}

/**
 * Writes what a card should show. A change bumps the card's version and puts it in the outbox (or,
 * for a card folded into a rollup, re-renders the rollup instead). Callers hold the lock that
 * serializes writers of this card (the alert group row).
 */
export async function writeAlertCard(tx: Tx, card: AlertCardWrite): Promise<{ cardId: number; changed: boolean }> {
  const hash = contentHash(card.text, card.replyMarkup);
  const [existing] = await tx<(CardRow & { summary: CardSummary | null })[]>`
    select id, chat_id, kind, topic_key, rollup_id, message_id, content_hash, version, severity, summary
    from cards where group_id = ${card.groupId} and episode = ${card.episode} for no key update`;
  let row: CardRow;
  if (!existing) {
    const [inserted] = await tx<CardRow[]>`
      insert into cards (chat_id, kind, topic_key, group_id, episode, status, severity, summary, text, reply_markup, content_hash, version)
      values (${card.chatId}, 'alert', ${card.topicKey}, ${card.groupId}, ${card.episode}, ${card.status}, ${card.severity},
              ${tx.json(card.summary as never)}, ${card.text}, ${card.replyMarkup === undefined ? null : tx.json(card.replyMarkup as never)},
              ${hash}, 1)
      returning id, chat_id, kind, topic_key, rollup_id, message_id, content_hash, version, severity`;
    row = inserted!;
  } else {
    if (existing.content_hash === hash) return { cardId: existing.id, changed: false };
    const [updated] = await tx<CardRow[]>`
      update cards set status = ${card.status}, severity = ${card.severity}, summary = ${tx.json(card.summary as never)},
             text = ${card.text}, reply_markup = ${card.replyMarkup === undefined ? null : tx.json(card.replyMarkup as never)},
             content_hash = ${hash}, version = version + 1, updated_at = now()
      where id = ${existing.id}
      returning id, chat_id, kind, topic_key, rollup_id, message_id, content_hash, version, severity`;
    row = updated!;
  }
  if (row.rollup_id === null) await enqueueCard(tx, row);
  // A rollup shows each member's summary and severity only: a new button or runbook line on the
  // member does not change it, and re-rendering a rollup of hundreds costs a lock and a scan.
  // (Compared field by field: the stored summary comes back from jsonb with its keys reordered.)
  else if (!existing || existing.severity !== card.severity || !sameRecord(existing.summary, card.summary)) {
    await refreshRollup(tx, row.rollup_id);
  }
  return { cardId: row.id, changed: true };
}

export async function enqueueCard(
  tx: Tx,
  card: {
    id: number;
    chat_id: number;
    topic_key: string | null;
    version: number;
    message_id: number | null;
    severity: string | null;
    kind: CardKind;
    reply_to_card_id?: number | null;
  },
): Promise<void> {
  const priority = outboxPriority({
    messageId: card.message_id,
    severity: card.severity,
    kind: card.kind,
    aboutCard: card.reply_to_card_id !== null && card.reply_to_card_id !== undefined,
  });
  await tx`
    insert into outbox (card_id, chat_id, topic_key, priority, version)
    values (${card.id}, ${card.chat_id}, ${card.topic_key}, ${priority}, ${card.version})
    on conflict (card_id) do update set version = excluded.version, priority = least(outbox.priority, excluded.priority)`;
  await tx`select pg_notify(${OUTBOX_CHANNEL}, ${String(card.chat_id)})`;
}

/**
 * Re-renders a rollup from its members. Locks the rollup row before reading the members, so two
 * writers cannot each render a view that misses the other's change.
 */
export async function refreshRollup(tx: Tx, rollupId: number): Promise<void> {
  const [rollup] = await tx<CardRow[]>`
    select id, chat_id, kind, topic_key, rollup_id, message_id, content_hash, version, severity
    from cards where id = ${rollupId} for no key update`;
  if (!rollup) return;
  const members = await tx<{ severity: string | null; summary: CardSummary; created_at: Date; updated_at: Date }[]>`
    select severity, summary, created_at, updated_at from cards where rollup_id = ${rollupId} order by id`;
  const rendered = renderRollupCard(
    members.map((m) => ({ severity: m.severity, summary: m.summary, createdAt: m.created_at, updatedAt: m.updated_at })),
  );
  const hash = contentHash(rendered.text, null);
  if (hash === rollup.content_hash) return;
  const [updated] = await tx<CardRow[]>`
    update cards set text = ${rendered.text}, content_hash = ${hash}, severity = ${rendered.severity},
           status = ${rendered.status === "resolved" ? "final" : "open"}, version = version + 1, updated_at = now()
    where id = ${rollupId}
    returning id, chat_id, kind, topic_key, rollup_id, message_id, content_hash, version, severity`;
  await enqueueCard(tx, updated!);
}

/** A one-off message (a reply, an announcement) sent through the same outbox as cards. */
export async function postNotice(
  tx: Tx,
  notice: {
    chatId: number;
    topicKey?: string | null;
    threadId?: number | null;
    replyToMessageId?: number | null;
    /** Reply to this card's message, whenever it gets one (it may still be waiting in the outbox). */
    replyToCardId?: number | null;
    text: string;
    replyMarkup?: unknown;
  },
): Promise<number> {
  const hash = contentHash(notice.text, notice.replyMarkup);
  const [row] = await tx<CardRow[]>`
    insert into cards (chat_id, kind, topic_key, target_thread_id, reply_to_message_id, reply_to_card_id, status, text, reply_markup, content_hash, version)
    values (${notice.chatId}, 'notice', ${notice.topicKey ?? null}, ${notice.threadId ?? null}, ${notice.replyToMessageId ?? null},
            ${notice.replyToCardId ?? null}, 'final',
            ${notice.text}, ${notice.replyMarkup === undefined ? null : tx.json(notice.replyMarkup as never)}, ${hash}, 1)
    returning id, chat_id, kind, topic_key, rollup_id, message_id, content_hash, version, severity, reply_to_card_id`;
  await enqueueCard(tx, row!);
  return row!.id;
}

/** What a notice needs of an episode's alert card to go under it, in its topic. */
export interface CardAnchor {
  id: number;
  topic_key: string | null;
}

/** The alert card of an alert group's episode, if it has one yet. */
export async function alertCardOf(tx: Tx, groupId: number, episode: number): Promise<CardAnchor | undefined> {
  const [card] = await tx<CardAnchor[]>`select id, topic_key from cards where group_id = ${groupId} and episode = ${episode}`;
  return card;
}

/**
 * A notice about an episode's alert card (a run's progress, a level change), posted as a reply to
 * it in its topic. Give the card when it is loaded already, or the episode to look it up by; with
 * no card (yet), the notice goes to the chat on its own.
 */
export async function postCardNotice(
  tx: Tx,
  notice: { chatId: number; text: string } & ({ card: CardAnchor | undefined } | { groupId: number; episode: number }),
): Promise<number> {
  const card = "card" in notice ? notice.card : await alertCardOf(tx, notice.groupId, notice.episode);
  return postNotice(tx, { chatId: notice.chatId, topicKey: card?.topic_key ?? null, replyToCardId: card?.id ?? null, text: notice.text });
}

/** Changes what a notice (a run's progress message) says; the outbox edits it, newest text wins. */
export async function updateNotice(tx: Tx, cardId: number, text: string, replyMarkup?: unknown): Promise<void> {
  const hash = contentHash(text, replyMarkup);
  const [row] = await tx<CardRow[]>`
    update cards set text = ${text}, reply_markup = ${replyMarkup === undefined ? null : tx.json(replyMarkup as never)},
           content_hash = ${hash}, version = version + 1, updated_at = now()
    where id = ${cardId} and content_hash <> ${hash}
    returning id, chat_id, kind, topic_key, rollup_id, message_id, content_hash, version, severity, reply_to_card_id`;
  if (row) await enqueueCard(tx, row);
}
