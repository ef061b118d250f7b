CREATE TABLE "alert_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"alert_id" bigint NOT NULL,
	"status" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivery_id" bigint
);
--> statement-breakpoint
CREATE TABLE "alert_groups" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"group_key" text NOT NULL,
	"receiver" text NOT NULL,
	"group_labels" jsonb NOT NULL,
	"common_labels" jsonb NOT NULL,
	"common_annotations" jsonb NOT NULL,
	"external_url" text,
	"truncated_alerts" integer DEFAULT 0 NOT NULL,
	"episode" integer DEFAULT 1 NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	"processed_version" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alerts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"group_id" bigint NOT NULL,
	"episode" integer NOT NULL,
	"dedupe_key" text NOT NULL,
	"fingerprint" text NOT NULL,
	"alertname" text NOT NULL,
	"severity" text,
	"status" text NOT NULL,
	"labels" jsonb NOT NULL,
	"annotations" jsonb NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone,
	"generator_url" text,
	"changed_version" integer NOT NULL,
	"last_delivery_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cards" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chat_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"topic_key" text,
	"target_thread_id" integer,
	"reply_to_message_id" integer,
	"group_id" bigint,
	"episode" integer,
	"rollup_id" bigint,
	"status" text DEFAULT 'open' NOT NULL,
	"severity" text,
	"summary" jsonb,
	"text" text NOT NULL,
	"reply_markup" jsonb,
	"content_hash" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"sent_version" integer DEFAULT 0 NOT NULL,
	"sent_hash" text,
	"message_id" integer,
	"thread_id" integer,
	"last_folded_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"content_type" text,
	"user_agent" text,
	"body" text NOT NULL,
	"signal_count" integer DEFAULT 0 NOT NULL,
	"changed" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"card_id" bigint NOT NULL,
	"chat_id" bigint NOT NULL,
	"topic_key" text,
	"priority" integer NOT NULL,
	"version" integer NOT NULL,
	"not_before" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"lease_until" timestamp with time zone,
	"lease_owner" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telegram_updates" (
	"update_id" bigint PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "topics" (
	"chat_id" bigint NOT NULL,
	"key" text NOT NULL,
	"thread_id" integer NOT NULL,
	"name" text NOT NULL,
	"icon_color" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "topics_chat_id_key_pk" PRIMARY KEY("chat_id","key")
);
--> statement-breakpoint
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_delivery_id_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."deliveries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_group_id_alert_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."alert_groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_last_delivery_id_deliveries_id_fk" FOREIGN KEY ("last_delivery_id") REFERENCES "public"."deliveries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cards" ADD CONSTRAINT "cards_group_id_alert_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."alert_groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_card_id_cards_id_fk" FOREIGN KEY ("card_id") REFERENCES "public"."cards"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_events_alert_idx" ON "alert_events" USING btree ("alert_id");--> statement-breakpoint
CREATE UNIQUE INDEX "alert_groups_source_key_uq" ON "alert_groups" USING btree ("source","group_key");--> statement-breakpoint
CREATE INDEX "alert_groups_unprocessed_idx" ON "alert_groups" USING btree ("id") WHERE "alert_groups"."processed_version" < "alert_groups"."version";--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_dedupe_key_uq" ON "alerts" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "alerts_group_episode_idx" ON "alerts" USING btree ("group_id","episode");--> statement-breakpoint
CREATE INDEX "alerts_firing_idx" ON "alerts" USING btree ("status") WHERE "alerts"."status" = 'firing';--> statement-breakpoint
CREATE UNIQUE INDEX "cards_group_episode_uq" ON "cards" USING btree ("group_id","episode");--> statement-breakpoint
CREATE INDEX "cards_rollup_idx" ON "cards" USING btree ("rollup_id");--> statement-breakpoint
CREATE INDEX "cards_open_rollup_idx" ON "cards" USING btree ("chat_id","topic_key") WHERE "cards"."kind" = 'rollup' and "cards"."status" = 'open';--> statement-breakpoint
CREATE INDEX "deliveries_received_at_idx" ON "deliveries" USING btree ("received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_card_uq" ON "outbox" USING btree ("card_id");--> statement-breakpoint
CREATE INDEX "outbox_ready_idx" ON "outbox" USING btree ("chat_id","priority","id");