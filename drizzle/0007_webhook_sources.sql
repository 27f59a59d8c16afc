CREATE TABLE "webhook_sources" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"provider" text NOT NULL,
	"name" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"sealed_secrets" text NOT NULL,
	"previous_sealed_secrets" text,
	"previous_valid_until" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"secrets_rotated_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE INDEX "webhook_sources_tenant_created" ON "webhook_sources" USING btree ("tenant_id","created_at");