ALTER TABLE "messages" ADD COLUMN "opens_transfer" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "carrier" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "region" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "sent_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "delivered_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "read_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "failed_at" timestamp (3) with time zone;