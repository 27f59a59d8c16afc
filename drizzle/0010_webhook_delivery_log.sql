CREATE TABLE "webhook_deliveries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text,
	"source_id" text,
	"provider" text NOT NULL,
	"received_at" timestamp (3) with time zone NOT NULL,
	"outcome" text NOT NULL,
	"status_code" integer NOT NULL,
	"reason" text,
	"event_count" integer NOT NULL,
	"body" "bytea" NOT NULL,
	"request" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "receipt_events" ADD COLUMN "delivery_id" uuid;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_tenant_id" ON "webhook_deliveries" USING btree ("tenant_id","id") WHERE tenant_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_source_id" ON "webhook_deliveries" USING btree ("source_id","id") WHERE source_id IS NOT NULL;