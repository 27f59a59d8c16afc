DROP INDEX "receipt_events_unmatched";--> statement-breakpoint
ALTER TABLE "receipt_events" ADD COLUMN "pending" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "receipt_events" ADD COLUMN "correlation" jsonb;--> statement-breakpoint
CREATE INDEX "receipt_events_pending" ON "receipt_events" USING btree ("id") WHERE pending;--> statement-breakpoint
CREATE INDEX "receipt_events_unmatched" ON "receipt_events" USING btree ("provider_message_id") WHERE message_id IS NULL AND NOT pending;