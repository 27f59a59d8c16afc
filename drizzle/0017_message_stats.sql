CREATE TABLE "message_stats" (
	"message_id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"transfer_created_at" timestamp (3) with time zone NOT NULL,
	"day" date NOT NULL,
	"channel" text NOT NULL,
	"provider" text NOT NULL,
	"carrier" text,
	"region" text,
	"opens_transfer" boolean NOT NULL,
	"fallback" boolean NOT NULL,
	"sent" boolean NOT NULL,
	"failed" boolean NOT NULL,
	"deliver_seconds" double precision,
	"read_seconds" double precision,
	"download_seconds" double precision,
	"changed_xid" bigint DEFAULT (pg_current_xact_id()::text)::bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "message_stats_tenant_day_changed" ON "message_stats" USING btree ("tenant_id","day","changed_xid");