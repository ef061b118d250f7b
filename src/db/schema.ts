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
    /** A notice answering a card that may not be on Telegram yet: the reply is resolved when it is sent. */
    replyToCardId: bigint("reply_to_card_id", { mode: "number" }),
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
  /** A level a person set by hand (/trust): the record does not move it until a run fails after it. */
  pinnedLevel: text("pinned_level").$type<"manual" | "prompted" | "standard">(),
  pinnedAt: timestamp("pinned_at", { withTimezone: true }),
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
    /** approved, confirmed, ignored, modified, silenced, unsilenced, auto (standard ran it), demoted … */
    action: text("action").notNull(),
    proposalId: bigint("proposal_id", { mode: "number" }),
    executionId: bigint("execution_id", { mode: "number" }),
    actorId: bigint("actor_id", { mode: "number" }),
    actorName: text("actor_name"),
    params: jsonb("params").$type<Record<string, string>>(),
    /** Filled in when the execution it led to ends: succeeded or failed. */
    outcome: text("outcome").$type<"succeeded" | "failed">(),
    outcomeAt: timestamp("outcome_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index("decisions_runbook_idx").on(t.runbookId, t.createdAt),
    index("decisions_alertname_idx").on(t.alertname, t.createdAt),
    // Every run's end updates and reads its proposal's decisions.
    index("decisions_proposal_idx").on(t.proposalId),
  ],
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

export type ProposalStatus = "open" | "confirming" | "awaiting_second" | "approved" | "ignored" | "expired" | "cancelled";

/**
 * A runbook offered for one card (alert group episode), with the parameter values it would run
 * with. Every button press is a conditional update of this row: the status it expects is part of
 * the WHERE, so two people tapping at once, or Telegram redelivering a callback, change it once.
 * (Buttons carry a MAC of their data, so a proposal cannot be acted on by guessing its id.)
 */
export const proposals = pgTable(
  "proposals",
  {
    id: id(),
    chatId: bigint("chat_id", { mode: "number" }).notNull(),
    groupId: bigint("group_id", { mode: "number" })
      .notNull()
      .references(() => alertGroups.id),
    episode: integer("episode").notNull(),
    runbookId: text("runbook_id")
      .notNull()
      .references(() => runbooks.id),
    /** The level and risk when proposed: what the buttons asked for. */
    level: text("level").$type<"manual" | "prompted" | "standard">().notNull(),
    risk: text("risk").$type<"low" | "medium" | "high">().notNull(),
    params: jsonb("params").$type<Record<string, string>>().notNull(),
    /** A parameter could not be filled from the alert: Modify is the only way forward. */
    paramError: text("param_error"),
    /** Which alert the values came from (the card's lead alert). */
    fingerprint: text("fingerprint").notNull(),
    alertname: text("alertname").notNull(),
    status: text("status").$type<ProposalStatus>().notNull().default("open"),
    firstApproverId: bigint("first_approver_id", { mode: "number" }),
    firstApproverName: text("first_approver_name"),
    decidedById: bigint("decided_by_id", { mode: "number" }),
    decidedByName: text("decided_by_name"),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    /** A modified plan replaces the proposal it came from. */
    supersedes: bigint("supersedes", { mode: "number" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("proposals_card_idx").on(t.groupId, t.episode)],
);

export type ExecutionStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "interrupted" | "refused";

/** One run of a runbook. At most one per proposal: the unique proposal id is what makes approval exactly-once. */
export const executions = pgTable(
  "executions",
  {
    id: id(),
    proposalId: bigint("proposal_id", { mode: "number" })
      .notNull()
      .references(() => proposals.id),
    runbookId: text("runbook_id")
      .notNull()
      .references(() => runbooks.id),
    params: jsonb("params").$type<Record<string, string>>().notNull(),
    /** approved: a person said yes; auto: the runbook is standard and ran on its own. */
    trigger: text("trigger").$type<"approved" | "auto">().notNull(),
    level: text("level").$type<"manual" | "prompted" | "standard">().notNull(),
    groupId: bigint("group_id", { mode: "number" }).notNull(),
    episode: integer("episode").notNull(),
    fingerprint: text("fingerprint").notNull(),
    status: text("status").$type<ExecutionStatus>().notNull().default("queued"),
    steps: jsonb("steps").$type<unknown[]>(),
    error: text("error"),
    /** The message in the thread that shows this run's progress and result. */
    progressCardId: bigint("progress_card_id", { mode: "number" }),
    queuedAt: timestamp("queued_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("executions_proposal_uq").on(t.proposalId),
    index("executions_runbook_idx").on(t.runbookId, t.finishedAt),
    index("executions_alert_idx").on(t.runbookId, t.fingerprint, t.queuedAt),
  ],
);

/** Every change of a runbook's level, with who or what changed it and the statistics behind it. */
export const levelChanges = pgTable(
  "level_changes",
  {
    id: id(),
    runbookId: text("runbook_id")
      .notNull()
      .references(() => runbooks.id),
    fromLevel: text("from_level").notNull(),
    toLevel: text("to_level").notNull(),
    reason: text("reason").notNull(),
    /** null: the policy decided; else the person who did it by hand (or /lockdown). */
    actorId: bigint("actor_id", { mode: "number" }),
    actorName: text("actor_name"),
    stats: jsonb("stats").$type<Record<string, unknown>>(),
    executionId: bigint("execution_id", { mode: "number" }),
    createdAt: createdAt(),
  },
  (t) => [index("level_changes_runbook_idx").on(t.runbookId, t.createdAt)],
);

/** Alertmanager silences made from a card. */
export const silences = pgTable(
  "silences",
  {
    id: id(),
    chatId: bigint("chat_id", { mode: "number" }).notNull(),
    groupId: bigint("group_id", { mode: "number" }).notNull(),
    episode: integer("episode").notNull(),
    alertmanagerId: text("alertmanager_id"),
    matchers: jsonb("matchers").$type<{ name: string; value: string; isRegex: boolean; isEqual: boolean }[]>().notNull(),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    endsAt: timestamp("ends_at", { withTimezone: true }).notNull(),
    createdById: bigint("created_by_id", { mode: "number" }).notNull(),
    createdByName: text("created_by_name").notNull(),
    status: text("status").$type<"active" | "expired">().notNull().default("active"),
    expiredById: bigint("expired_by_id", { mode: "number" }),
    expiredByName: text("expired_by_name"),
    expiredAt: timestamp("expired_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("silences_card_idx").on(t.groupId, t.episode)],
);

/** Security-relevant events that are not decisions: refused button presses, stale buttons, lockdowns. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: id(),
    actorId: bigint("actor_id", { mode: "number" }),
    actorName: text("actor_name"),
    action: text("action").notNull(),
    target: text("target"),
    detail: jsonb("detail").$type<Record<string, unknown>>(),
    createdAt: createdAt(),
  },
  (t) => [index("audit_log_created_idx").on(t.createdAt)],
);

/** Service-wide switches that must hold across replicas and restarts (lockdown). */
export const settings = pgTable("settings", {
  key: text("key").primaryKey(),
  value: jsonb("value").$type<unknown>().notNull(),
  updatedAt: updatedAt(),
});

/** grammY conversations (Modify, reasons for /trust) survive restarts here, keyed by chat, thread and user. */
export const conversationState = pgTable("conversation_state", {
  key: text("key").primaryKey(),
  value: jsonb("value").$type<unknown>().notNull(),
  updatedAt: updatedAt(),
});
