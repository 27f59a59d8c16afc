ALTER TABLE "receipt_events" ADD COLUMN "visible_xid" bigint DEFAULT (pg_current_xact_id()::text)::bigint NOT NULL;--> statement-breakpoint
CREATE INDEX "receipt_events_tenant_visible" ON "receipt_events" USING btree ("tenant_id","visible_xid","id") WHERE tenant_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "receipt_events_tenant_channel_occurred" ON "receipt_events" USING btree ("tenant_id","channel","occurred_at") WHERE tenant_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "receipt_events_tenant_carrier_event_occurred" ON "receipt_events" USING btree ("tenant_id","carrier","event","occurred_at") WHERE tenant_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "receipt_events_message" ON "receipt_events" USING btree ("message_id") WHERE message_id IS NOT NULL;