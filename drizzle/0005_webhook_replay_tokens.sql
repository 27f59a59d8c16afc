CREATE TABLE "webhook_replay_tokens" (
	"provider" text NOT NULL,
	"token" text NOT NULL,
	"seen_at" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "webhook_replay_tokens_provider_token_pk" PRIMARY KEY("provider","token")
);
--> statement-breakpoint
CREATE INDEX "webhook_replay_tokens_expires" ON "webhook_replay_tokens" USING btree ("expires_at");