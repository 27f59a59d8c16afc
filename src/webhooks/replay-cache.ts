import { and, eq, gt, lte } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { webhookReplayTokens } from "../db/schema.js";
import type { ReplayToken } from "./provider.js";

/**
 * Single-use webhook tokens, spent in PostgreSQL so that every instance refuses a replay, even
 * after a restart. A token is kept until its sender's timestamp window would refuse it anyway.
 */
export class ReplayCache {
  constructor(private readonly db: Database) {}

  /** Whether this provider's `token` was spent already. */
  async isSpent(provider: string, token: string, now: Date): Promise<boolean> {
    const [row] = await this.db
      .select({ token: webhookReplayTokens.token })
      .from(webhookReplayTokens)
      .where(and(eq(webhookReplayTokens.provider, provider), eq(webhookReplayTokens.token, token), gt(webhookReplayTokens.expiresAt, now)))
      .limit(1);
    return row !== undefined;
  }

  /** Spends the token (spending it twice, as two racing deliveries might, is harmless) and forgets expired ones. */
  async spend(provider: string, { token, expiresAt }: ReplayToken, now: Date): Promise<void> {
    await this.db.delete(webhookReplayTokens).where(and(eq(webhookReplayTokens.provider, provider), lte(webhookReplayTokens.expiresAt, now)));
    await this.db.insert(webhookReplayTokens).values({ provider, token, seenAt: now, expiresAt }).onConflictDoNothing();
  }
}
