CREATE TABLE "delivery_policies" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"policy" jsonb NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "send_throttle" (
	"key" text PRIMARY KEY NOT NULL,
	"next_slot_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "fallback_of_message_id" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "fallback_reason" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "fallback_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "delivery_policy" jsonb;--> statement-breakpoint
CREATE INDEX "messages_fallback_due" ON "messages" USING btree ("fallback_at") WHERE fallback_at IS NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_fallback_of_message_id_unique" UNIQUE("fallback_of_message_id");