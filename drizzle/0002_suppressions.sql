CREATE TABLE "suppressions" (
	"tenant_id" text NOT NULL,
	"kind" text NOT NULL,
	"address" text NOT NULL,
	"reason" text NOT NULL,
	"note" text,
	"event_id" bigint,
	"created_by" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "suppressions_tenant_id_kind_address_pk" PRIMARY KEY("tenant_id","kind","address")
);
--> statement-breakpoint
CREATE INDEX "suppressions_tenant_created" ON "suppressions" USING btree ("tenant_id","created_at");