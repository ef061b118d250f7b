CREATE TABLE "card_matches" (
	"group_id" bigint NOT NULL,
	"episode" integer NOT NULL,
	"library_version" text NOT NULL,
	"matches" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "card_matches_group_id_episode_pk" PRIMARY KEY("group_id","episode")
);
--> statement-breakpoint
CREATE TABLE "decisions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chat_id" bigint,
	"group_id" bigint,
	"episode" integer,
	"alertname" text NOT NULL,
	"labels" jsonb NOT NULL,
	"summary" text,
	"runbook_id" text,
	"level" text,
	"action" text NOT NULL,
	"actor_id" bigint,
	"actor_name" text,
	"params" jsonb,
	"outcome" text,
	"outcome_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runbooks" (
	"id" text PRIMARY KEY NOT NULL,
	"file" text NOT NULL,
	"title" text NOT NULL,
	"kind" text NOT NULL,
	"risk" text NOT NULL,
	"content_hash" text NOT NULL,
	"level" text NOT NULL,
	"level_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "search_docs" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"embedder" text NOT NULL,
	"hash" text NOT NULL,
	"dense" real[] NOT NULL,
	"sparse" jsonb NOT NULL,
	"payload" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "card_matches" ADD CONSTRAINT "card_matches_group_id_alert_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."alert_groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "decisions" ADD CONSTRAINT "decisions_group_id_alert_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."alert_groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "decisions" ADD CONSTRAINT "decisions_runbook_id_runbooks_id_fk" FOREIGN KEY ("runbook_id") REFERENCES "public"."runbooks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "decisions_runbook_idx" ON "decisions" USING btree ("runbook_id","created_at");--> statement-breakpoint
CREATE INDEX "decisions_alertname_idx" ON "decisions" USING btree ("alertname","created_at");--> statement-breakpoint
CREATE INDEX "search_docs_kind_idx" ON "search_docs" USING btree ("kind","embedder");