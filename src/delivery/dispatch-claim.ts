import { and, asc, eq, inArray, lt, lte, or, sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { messages, transfers } from "../db/schema.js";
import type { Channel, SuppressionRecord } from "../domain/model.js";
import { suppressionsFor } from "../domain/suppression.service.js";

export type ClaimedMessage = { id: string; tenantId: string; transferId: string; channel: Channel; clientMessageId: string; attempts: number };

/** A claimed message with what its send needs: its transfer, and its recipient's suppression if there is one. */
export interface ClaimedSend {
  message: ClaimedMessage;
  transfer: typeof transfers.$inferSelect;
  suppression: SuppressionRecord | undefined;
}

/**
 * Leases up to `limit` due messages (queued and due, or sending with a lapsed lease), oldest due
 * first, counting the claim as an attempt; rows another worker holds are skipped. Two statements
 * whatever the number: the claim with their transfers, then their recipients' suppressions.
 */
export async function claimDue(db: Database, limit: number, leaseMs: number): Promise<ClaimedSend[]> {
  const now = new Date();
  const due = db
    .select({ id: messages.id })
    .from(messages)
    .where(
      or(
        and(eq(messages.dispatchState, "pending"), lte(messages.nextAttemptAt, now)),
        and(eq(messages.dispatchState, "sending"), lt(messages.leaseUntil, now)),
      ),
    )
    .orderBy(asc(messages.nextAttemptAt))
    .limit(limit)
    .for("update", { skipLocked: true });
  const claimed = db.$with("claimed").as(
    db
      .update(messages)
      .set({
        dispatchState: "sending",
        leaseUntil: new Date(now.getTime() + leaseMs),
        attempts: sql`${messages.attempts} + 1`,
        updatedAt: now,
      })
      .where(inArray(messages.id, due))
      .returning({
        id: messages.id,
        tenantId: messages.tenantId,
        transferId: messages.transferId,
        channel: messages.channel,
        clientMessageId: messages.clientMessageId,
        attempts: messages.attempts,
      }),
  );
  // With their transfers, in the same statement (a message's transfer is always there: a foreign key).
  const sends = await db
    .with(claimed)
    .select({
      message: {
        id: claimed.id,
        tenantId: claimed.tenantId,
        transferId: claimed.transferId,
        channel: claimed.channel,
        clientMessageId: claimed.clientMessageId,
        attempts: claimed.attempts,
      },
      transfer: transfers,
    })
    .from(claimed)
    .innerJoin(transfers, eq(transfers.id, claimed.transferId));
  if (sends.length === 0) return [];
  const suppressions = await suppressionsFor(
    db,
    sends.map(({ message, transfer }) => ({ tenantId: message.tenantId, channel: message.channel, recipient: transfer })),
  );
  return sends.map((send, index) => ({ ...send, suppression: suppressions[index] }));
}
