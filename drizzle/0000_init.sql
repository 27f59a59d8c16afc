CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant_id" text NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"transfer_id" text,
	"ip" text,
	"client" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"transfer_id" text NOT NULL,
	"channel" text NOT NULL,
	"provider" text NOT NULL,
	"provider_message_id" text,
	"client_message_id" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"dispatch_state" text DEFAULT 'pending' NOT NULL,
	"next_attempt_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"lease_until" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "messages_provider_message_id_unique" UNIQUE("provider_message_id"),
	CONSTRAINT "messages_client_message_id_unique" UNIQUE("client_message_id")
);
--> statement-breakpoint
CREATE TABLE "receipt_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "receipt_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant_id" text,
	"transfer_id" text,
	"message_id" text,
	"provider_message_id" text,
	"phone" text,
	"channel" text,
	"event" text NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"received_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"provider" text NOT NULL,
	"source" text NOT NULL,
	"carrier" text,
	"region" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"raw" jsonb NOT NULL,
	"dedupe_key" text NOT NULL,
	CONSTRAINT "receipt_events_dedupe_key_unique" UNIQUE("dedupe_key")
);
--> statement-breakpoint
CREATE TABLE "templates" (
	"provider" text NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	"comment" text,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"raw" jsonb NOT NULL,
	CONSTRAINT "templates_provider_name_pk" PRIMARY KEY("provider","name")
);
--> statement-breakpoint
CREATE TABLE "transfers" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"sender_name" text NOT NULL,
	"recipient_phone" text,
	"recipient_email" text,
	"file_name" text NOT NULL,
	"file_size_bytes" bigint NOT NULL,
	"description" text,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"security_policy" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	"downloaded_at" timestamp (3) with time zone,
	"idempotency_key" text,
	"idempotency_fingerprint" text,
	"created_by" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_transfer_id_transfers_id_fk" FOREIGN KEY ("transfer_id") REFERENCES "public"."transfers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_tenant_at" ON "audit_log" USING btree ("tenant_id","at");--> statement-breakpoint
CREATE INDEX "messages_transfer" ON "messages" USING btree ("transfer_id");--> statement-breakpoint
CREATE INDEX "messages_dispatch_due" ON "messages" USING btree ("next_attempt_at") WHERE dispatch_state <> 'done';--> statement-breakpoint
CREATE INDEX "receipt_events_tenant_transfer_occurred" ON "receipt_events" USING btree ("tenant_id","transfer_id","occurred_at");--> statement-breakpoint
CREATE INDEX "receipt_events_tenant_occurred_id" ON "receipt_events" USING btree ("tenant_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "receipt_events_unmatched" ON "receipt_events" USING btree ("provider_message_id") WHERE message_id IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "transfers_tenant_idempotency_key" ON "transfers" USING btree ("tenant_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "transfers_tenant_created" ON "transfers" USING btree ("tenant_id","created_at");--> statement-breakpoint
CREATE INDEX "transfers_recipient_phone_created" ON "transfers" USING btree ("recipient_phone","created_at");