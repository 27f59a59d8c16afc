import { and, asc, eq, inArray, lt, lte, or, sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { messages, transfers } from "../db/schema.js";
import { textArray } from "../db/sql.js";
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
 * first, counting the claim as an attempt; rows another worker holds are skipped. Three statements
 * whatever the number: the claim, their transfers, their recipients' suppressions.
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
  const claimed = await db
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
    });
  if (claimed.length === 0) return [];
  const rows = await db
    .select()
    .from(transfers)
    .where(sql`${transfers.id} = ANY(${textArray(claimed.map((message) => message.transferId))})`);
  const transferById = new Map(rows.map((transfer) => [transfer.id, transfer]));
  // A message's transfer is always there (a foreign key); were it not, the lease would simply lapse.
  const sends = claimed.flatMap((message) => {
    const transfer = transferById.get(message.transferId);
    return transfer ? [{ message, transfer }] : [];
  });
  const suppressions = await suppressionsFor(
    db,
    sends.map(({ message, transfer }) => ({ tenantId: message.tenantId, channel: message.channel, recipient: transfer })),
  );
  return sends.map((send, index) => ({ ...send, suppression: suppressions[index] }));
}
