import { and, asc, eq, isNotNull, lte } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { messages, transfers } from "../db/schema.js";
import { fallbackChannel, policyOf } from "./delivery-policy.js";
import type { Channel, TransferUpdate } from "./model.js";
import { queueMessages } from "./message-queue.js";

const SWEEP_BATCH = 25;

/**
 * Sends the fallbacks that are due: messages that failed (or their provider revoked), or were
 * not delivered before their timer ran out (rows, not `setTimeout`, so a restart loses none).
 * Each is decided under its transfer's lock, so two instances never fall back twice (and a
 * message has at most one fallback by a unique key besides).
 */
export async function sendDueFallbacks(db: Database, providerFor: (channel: Channel) => string, now = new Date()): Promise<TransferUpdate[]> {
  const due = await db
    .select({ id: messages.id, transferId: messages.transferId })
    .from(messages)
    .where(and(isNotNull(messages.fallbackAt), lte(messages.fallbackAt, now)))
    .orderBy(asc(messages.fallbackAt))
    .limit(SWEEP_BATCH);
  const updates: TransferUpdate[] = [];
  for (const message of due) updates.push(...(await fallBack(db, message, providerFor, now)));
  return updates;
}

async function fallBack(db: Database, due: { id: string; transferId: string }, providerFor: (channel: Channel) => string, now: Date) {
  return db.transaction(async (tx) => {
    const [transfer] = await tx.select().from(transfers).where(eq(transfers.id, due.transferId)).for("update");
    const [message] = await tx.select().from(messages).where(eq(messages.id, due.id));
    if (!transfer || !message?.fallbackAt || message.fallbackAt > now) return [];
    await tx.update(messages).set({ fallbackAt: null, updatedAt: now }).where(eq(messages.id, message.id));
    const policy = policyOf(transfer.deliveryPolicy);
    const channel = fallbackChannel(policy, message.channel, transfer);
    const open = !transfer.revokedAt && transfer.expiresAt > now;
    // Revoking the transfer revokes its messages too, but then it is no longer open.
    if (!channel || !open || !["QUEUED", "SENT", "FAILED", "REVOKED"].includes(message.status)) return [];
    const reasons: Partial<Record<typeof message.status, string>> = {
      FAILED: `${message.channel} failed: ${message.lastError ?? "the provider reported a failure"}`,
      REVOKED: `${message.channel} revoked by the provider before delivery`,
    };
    const reason = reasons[message.status] ?? `${message.channel} not delivered within ${policy.fallbackAfterMinutes} min (still ${message.status})`;
    return queueMessages(tx, transfer, [{ channel, notBefore: now, reason, fallbackOfMessageId: message.id }], { providerFor, now });
  });
}
