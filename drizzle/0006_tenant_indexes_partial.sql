DROP INDEX "receipt_events_tenant_transfer_occurred";--> statement-breakpoint
DROP INDEX "receipt_events_tenant_occurred_id";--> statement-breakpoint
CREATE INDEX "receipt_events_tenant_transfer_occurred" ON "receipt_events" USING btree ("tenant_id","transfer_id","occurred_at") WHERE tenant_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "receipt_events_tenant_occurred_id" ON "receipt_events" USING btree ("tenant_id","occurred_at","id") WHERE tenant_id IS NOT NULL;