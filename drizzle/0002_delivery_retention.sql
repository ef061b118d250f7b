ALTER TABLE "alert_events" DROP CONSTRAINT "alert_events_delivery_id_deliveries_id_fk";
--> statement-breakpoint
ALTER TABLE "alerts" DROP CONSTRAINT "alerts_last_delivery_id_deliveries_id_fk";
--> statement-breakpoint
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_delivery_id_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."deliveries"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_last_delivery_id_deliveries_id_fk" FOREIGN KEY ("last_delivery_id") REFERENCES "public"."deliveries"("id") ON DELETE set null ON UPDATE no action;