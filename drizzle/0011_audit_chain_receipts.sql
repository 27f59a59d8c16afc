ALTER TABLE "audit_log" ADD COLUMN "seq" bigint;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "prev_hash" text;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "hash" text;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "sender_email" text;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "file_sha256" text;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "download_receipt" text;--> statement-breakpoint
CREATE UNIQUE INDEX "audit_log_tenant_seq" ON "audit_log" USING btree ("tenant_id","seq");--> statement-breakpoint
CREATE INDEX "audit_log_tenant_transfer" ON "audit_log" USING btree ("tenant_id","transfer_id");