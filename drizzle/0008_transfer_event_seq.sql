ALTER TABLE "receipt_events" ADD COLUMN "seq" bigint;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "event_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "receipt_events_transfer_seq" ON "receipt_events" USING btree ("transfer_id","seq");