import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const id = () => bigserial("id", { mode: "number" }).primaryKey();
const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

/** Every accepted webhook body, byte for byte, for audit and replay. */
export const deliveries = pgTable(
  "deliveries",
  {
    id: id(),
    source: text("source").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
    contentType: text("content_type"),
    userAgent: text("user_agent"),
    body: text("body").notNull(),
    signalCount: integer("signal_count").notNull().default(0),
    /** Whether this delivery changed anything (false for a redelivery or an HA twin). */
    changed: boolean("changed").notNull().default(false),
  },
  (t) => [index("deliveries_received_at_idx").on(t.receivedAt)],
);

/** One Alertmanager aggregation group (groupKey); a card per episode (firing … all resolved). */
export const alertGroups = pgTable(
  "alert_groups",
  {
    id: id(),
    source: text("source").notNull(),
    groupKey: text("group_key").notNull(),
    receiver: text("receiver").notNull(),
    groupLabels: jsonb("group_labels").$type<Record<string, string>>().notNull(),
    commonLabels: jsonb("common_labels").$type<Record<string, string>>().notNull(),
    commonAnnotations: jsonb("common_annotations").$type<Record<string, string>>().notNull(),
    externalUrl: text("external_url"),
    truncatedAlerts: integer("truncated_alerts").notNull().default(0),
    /** The episode new firing alerts join; it advances when a firing alert arrives after all resolved. */
    episode: integer("episode").notNull().default(1),
    /** Bumped on every stored change; the worker brings cards up to it (processed_version). */
    version: integer("version").notNull().default(0),
    processedVersion: integer("processed_version").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("alert_groups_source_key_uq").on(t.source, t.groupKey),
    index("alert_groups_unprocessed_idx").on(t.id).where(sql`${t.processedVersion} < ${t.version}`),
  ],
);

/** One alert: identity is source + fingerprint + startsAt (the dedupe key). */
export const alerts = pgTable(
  "alerts",
  {
    id: id(),
    groupId: bigint("group_id", { mode: "number" })
      .notNull()
      .references(() => alertGroups.id),
    episode: integer("episode").notNull(),
    dedupeKey: text("dedupe_key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    alertname: text("alertname").notNull(),
    severity: text("severity"),
    status: text("status").$type<"firing" | "resolved">().notNull(),
    labels: jsonb("labels").$type<Record<string, string>>().notNull(),
    annotations: jsonb("annotations").$type<Record<string, string>>().notNull(),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    endsAt: timestamp("ends_at", { withTimezone: true }),
    generatorUrl: text("generator_url"),
    /** Group version at which this alert last changed: tells the worker which episodes to re-render. */
    changedVersion: integer("changed_version").notNull(),
    // Deliveries are pruned after DELIVERY_RETENTION_DAYS; the alert stays.
    lastDeliveryId: bigint("last_delivery_id", { mode: "number" }).references(() => deliveries.id, { onDelete: "set null" }),
    firstSeenAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("alerts_dedupe_key_uq").on(t.dedupeKey),
    index("alerts_group_episode_idx").on(t.groupId, t.episode),
    index("alerts_firing_idx").on(t.status).where(sql`${t.status} = 'firing'`),
  ],
);

/** Status history of each alert: one row per change, with the delivery that carried it. */
export const alertEvents = pgTable(
  "alert_events",
  {
    id: id(),
    alertId: bigint("alert_id", { mode: "number" })
      .notNull()
      .references(() => alerts.id),
    status: text("status").$type<"firing" | "resolved">().notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    deliveryId: bigint("delivery_id", { mode: "number" }).references(() => deliveries.id, { onDelete: "set null" }),
  },
  (t) => [index("alert_events_alert_idx").on(t.alertId)],
);

/** Forum topics the bot keeps in the chat: topic key (from topics/*.yaml) → message_thread_id. */
export const topics = pgTable(
  "topics",
  {
    chatId: bigint("chat_id", { mode: "number" }).notNull(),
    key: text("key").notNull(),
    threadId: integer("thread_id").notNull(),
    name: text("name").notNull(),
    iconColor: integer("icon_color"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.chatId, t.key] })],
);

export type CardKind = "alert" | "rollup" | "notice";

/**
 * Which Telegram message shows what. `text`/`replyMarkup`/`version` are what it should show;
 * `sentVersion`/`messageId` are what Telegram has. The outbox closes the gap.
 */
export const cards = pgTable(
  "cards",
  {
    id: id(),
    chatId: bigint("chat_id", { mode: "number" }).notNull(),
    kind: text("kind").$type<CardKind>().notNull(),
    /** Topic from topics/*.yaml; null for a notice aimed at a raw thread (or General). */
    topicKey: text("topic_key"),
    /** For notices: the thread to post in when there is no topic key (null = General). */
    targetThreadId: integer("target_thread_id"),
    replyToMessageId: integer("reply_to_message_id"),
    groupId: bigint("group_id", { mode: "number" }).references(() => alertGroups.id),
    episode: integer("episode"),
    /** Set when this alert card is shown as part of a rollup card instead of its own message. */
    rollupId: bigint("rollup_id", { mode: "number" }),
    /** open: may still change; final: resolved or closed, kept as it is. */
    status: text("status").$type<"open" | "final">().notNull().default("open"),
    severity: text("severity"),
    /** Compact facts a rollup lists for this card (title, status, counts). */
    summary: jsonb("summary").$type<CardSummary>(),
    text: text("text").notNull(),
    replyMarkup: jsonb("reply_markup"),
    contentHash: text("content_hash").notNull(),
    version: integer("version").notNull().default(1),
    sentVersion: integer("sent_version").notNull().default(0),
    sentHash: text("sent_hash"),
    messageId: integer("message_id"),
    threadId: integer("thread_id"),
    /** For rollups: when alert cards were last folded in; an old rollup is not extended. */
    lastFoldedAt: timestamp("last_folded_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    sentAt: timestamp("sent_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("cards_group_episode_uq").on(t.groupId, t.episode),
    index("cards_rollup_idx").on(t.rollupId),
    index("cards_open_rollup_idx").on(t.chatId, t.topicKey).where(sql`${t.kind} = 'rollup' and ${t.status} = 'open'`),
  ],
);

export interface CardSummary {
  title: string;
  alertname: string;
  status: "firing" | "resolved";
  firing: number;
  resolved: number;
  detail: string;
}

/** Pending sends: each row asks for one card to be brought up to `version` on Telegram. */
export const outbox = pgTable(
  "outbox",
  {
    id: id(),
    cardId: bigint("card_id", { mode: "number" })
      .notNull()
      .references(() => cards.id),
    chatId: bigint("chat_id", { mode: "number" }).notNull(),
    topicKey: text("topic_key"),
    /** Lower goes first: new critical cards before new warnings before edits. */
    priority: integer("priority").notNull(),
    version: integer("version").notNull(),
    notBefore: timestamp("not_before", { withTimezone: true }).notNull().defaultNow(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    leaseOwner: text("lease_owner"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("outbox_card_uq").on(t.cardId),
    index("outbox_ready_idx").on(t.chatId, t.priority, t.id),
  ],
);

/** Telegram redelivers updates; each update_id is handled once. */
export const telegramUpdates = pgTable("telegram_updates", {
  updateId: bigint("update_id", { mode: "number" }).primaryKey(),
  createdAt: createdAt(),
});

/**
 * The runbooks the service knows, and the state that is not in their files: the level each has
 * reached on the trust ladder. A runbook removed from disk keeps its row (decisions refer to it).
 */
export const runbooks = pgTable("runbooks", {
  id: text("id").primaryKey(),
  file: text("file").notNull(),
  title: text("title").notNull(),
  kind: text("kind").$type<"runbook" | "page">().notNull(),
  risk: text("risk").$type<"low" | "medium" | "high">().notNull(),
  contentHash: text("content_hash").notNull(),
  level: text("level").$type<"manual" | "prompted" | "standard">().notNull(),
  levelChangedAt: timestamp("level_changed_at", { withTimezone: true }).notNull().defaultNow(),
  removedAt: timestamp("removed_at", { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * What has been embedded, by which embedder, from which content: the search index can be rebuilt
 * (the embedded one at every start) or brought in line (Qdrant) without embedding anything twice.
 */
export const searchDocs = pgTable(
  "search_docs",
  {
    id: text("id").primaryKey(),
    kind: text("kind").$type<"runbook" | "decision">().notNull(),
    embedder: text("embedder").notNull(),
    hash: text("hash").notNull(),
    dense: real("dense").array().notNull(),
    sparse: jsonb("sparse").$type<{ indices: number[]; values: number[] }>().notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [index("search_docs_kind_idx").on(t.kind, t.embedder)],
);

/**
 * Every decision a person (or the ladder) made about a proposed runbook for an alert: who, what,
 * when, at which level, and how it turned out. Append-only; statistics are derived from these rows.
 */
export const decisions = pgTable(
  "decisions",
  {
    id: id(),
    chatId: bigint("chat_id", { mode: "number" }),
    groupId: bigint("group_id", { mode: "number" }).references(() => alertGroups.id),
    episode: integer("episode"),
    alertname: text("alertname").notNull(),
    labels: jsonb("labels").$type<Record<string, string>>().notNull(),
    summary: text("summary"),
    runbookId: text("runbook_id").references(() => runbooks.id),
    level: text("level").$type<"manual" | "prompted" | "standard">(),
    /** approved, ignored, modified, silenced, unsilenced, auto (standard ran it), demoted … */
    action: text("action").notNull(),
    actorId: bigint("actor_id", { mode: "number" }),
    actorName: text("actor_name"),
    params: jsonb("params").$type<Record<string, string>>(),
    /** Filled in when the execution it led to ends: succeeded or failed. */
    outcome: text("outcome").$type<"succeeded" | "failed">(),
    outcomeAt: timestamp("outcome_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("decisions_runbook_idx").on(t.runbookId, t.createdAt), index("decisions_alertname_idx").on(t.alertname, t.createdAt)],
);

/** The runbooks matched for one card (group episode), so a re-render does not search again. */
export const cardMatches = pgTable(
  "card_matches",
  {
    groupId: bigint("group_id", { mode: "number" })
      .notNull()
      .references(() => alertGroups.id),
    episode: integer("episode").notNull(),
    /** The library (all runbook hashes) the matches were computed against. */
    libraryVersion: text("library_version").notNull(),
    matches: jsonb("matches").$type<unknown[]>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.episode] })],
);
