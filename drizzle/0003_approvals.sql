CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"actor_id" bigint,
	"actor_name" text,
	"action" text NOT NULL,
	"target" text,
	"detail" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "conversation_state" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "executions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"proposal_id" bigint NOT NULL,
	"runbook_id" text NOT NULL,
	"params" jsonb NOT NULL,
	"trigger" text NOT NULL,
	"level" text NOT NULL,
	"group_id" bigint NOT NULL,
	"episode" integer NOT NULL,
	"fingerprint" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"steps" jsonb,
	"error" text,
	"progress_card_id" bigint,
	"queued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "level_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"runbook_id" text NOT NULL,
	"from_level" text NOT NULL,
	"to_level" text NOT NULL,
	"reason" text NOT NULL,
	"actor_id" bigint,
	"actor_name" text,
	"stats" jsonb,
	"execution_id" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "proposals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chat_id" bigint NOT NULL,
	"group_id" bigint NOT NULL,
	"episode" integer NOT NULL,
	"runbook_id" text NOT NULL,
	"level" text NOT NULL,
	"risk" text NOT NULL,
	"params" jsonb NOT NULL,
	"param_error" text,
	"fingerprint" text NOT NULL,
	"alertname" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"first_approver_id" bigint,
	"first_approver_name" text,
	"decided_by_id" bigint,
	"decided_by_name" text,
	"decided_at" timestamp with time zone,
	"supersedes" bigint,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "silences" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"chat_id" bigint NOT NULL,
	"group_id" bigint NOT NULL,
	"episode" integer NOT NULL,
	"alertmanager_id" text,
	"matchers" jsonb NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"created_by_id" bigint NOT NULL,
	"created_by_name" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"expired_by_id" bigint,
	"expired_by_name" text,
	"expired_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "decisions" ADD COLUMN "proposal_id" bigint;--> statement-breakpoint
ALTER TABLE "decisions" ADD COLUMN "execution_id" bigint;--> statement-breakpoint
ALTER TABLE "runbooks" ADD COLUMN "pinned_level" text;--> statement-breakpoint
ALTER TABLE "runbooks" ADD COLUMN "pinned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "executions" ADD CONSTRAINT "executions_proposal_id_proposals_id_fk" FOREIGN KEY ("proposal_id") REFERENCES "public"."proposals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "executions" ADD CONSTRAINT "executions_runbook_id_runbooks_id_fk" FOREIGN KEY ("runbook_id") REFERENCES "public"."runbooks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "level_changes" ADD CONSTRAINT "level_changes_runbook_id_runbooks_id_fk" FOREIGN KEY ("runbook_id") REFERENCES "public"."runbooks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "proposals" ADD CONSTRAINT "proposals_group_id_alert_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."alert_groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "proposals" ADD CONSTRAINT "proposals_runbook_id_runbooks_id_fk" FOREIGN KEY ("runbook_id") REFERENCES "public"."runbooks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_created_idx" ON "audit_log" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "executions_proposal_uq" ON "executions" USING btree ("proposal_id");--> statement-breakpoint
CREATE INDEX "executions_runbook_idx" ON "executions" USING btree ("runbook_id","finished_at");--> statement-breakpoint
CREATE INDEX "executions_alert_idx" ON "executions" USING btree ("runbook_id","fingerprint","queued_at");--> statement-breakpoint
CREATE INDEX "level_changes_runbook_idx" ON "level_changes" USING btree ("runbook_id","created_at");--> statement-breakpoint
CREATE INDEX "proposals_card_idx" ON "proposals" USING btree ("group_id","episode");--> statement-breakpoint
CREATE INDEX "silences_card_idx" ON "silences" USING btree ("group_id","episode");