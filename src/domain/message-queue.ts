import type { Transaction } from "../db/client.js";
import { messages, type transfers } from "../db/schema.js";
import { newId } from "./ids.js";
import type { Channel, TransferUpdate } from "./model.js";
import { fallbackDueAt, type PlannedMessage, policyOf } from "./delivery-policy.js";
import { ownMessageEvent, storeEvents } from "./receipt-store.js";

/** A transfer as queueing reads it: where it goes, until when, under which policy. */
type QueueTarget = Pick<typeof transfers.$inferSelect, "id" | "tenantId" | "recipientPhone" | "recipientEmail" | "expiresAt" | "deliveryPolicy">;

/**
 * Queues planned messages, each with its QUEUED event saying why, and arms each one's fallback
 * timer by the transfer's policy. A known idempotency key, or a second fallback of the same
 * message, queues nothing. `opensTransfer`: these are a new transfer's first messages, and the
 * first of them is the one statistics count the transfer in.
 */
export async function queueMessages(
  tx: Transaction,
  transfer: QueueTarget,
  planned: Array<PlannedMessage & { fallbackOfMessageId?: string }>,
  options: { providerFor: (channel: Channel) => string; now: Date; idempotencyKey?: string; opensTransfer?: boolean },
): Promise<TransferUpdate[]> {
  const { now } = options;
  const policy = policyOf(transfer.deliveryPolicy);
  const rows = planned.map((plan, index) => {
    const messageId = newId("msg");
    return {
      id: messageId,
      tenantId: transfer.tenantId,
      transferId: transfer.id,
      channel: plan.channel,
      provider: options.providerFor(plan.channel),
      clientMessageId: messageId,
      idempotencyKey: options.idempotencyKey ?? null,
      status: "QUEUED" as const,
      nextAttemptAt: plan.notBefore,
      fallbackOfMessageId: plan.fallbackOfMessageId ?? null,
      fallbackReason: plan.fallbackOfMessageId ? plan.reason : null,
      fallbackAt: fallbackDueAt(policy, plan.channel, transfer, plan.notBefore),
      opensTransfer: options.opensTransfer === true && index === 0,
      createdAt: now,
      updatedAt: now,
    };
  });
  const queued = await tx.insert(messages).values(rows).onConflictDoNothing().returning();
  if (queued.length === 0) return [];
  const reasons = new Map(planned.map((plan, index) => [rows[index]!.id, plan.reason]));
  // Every arrow in the flow is a stored event: queueing a message is the first, and it says why.
  const events = queued.map((message) => {
    const metadata = {
      reason: reasons.get(message.id),
      ...(message.fallbackOfMessageId && { fallback_of: message.fallbackOfMessageId }),
      ...(message.nextAttemptAt > now && { scheduled_for: message.nextAttemptAt.toISOString() }),
      ...(message.fallbackAt && { fallback_at: message.fallbackAt.toISOString() }),
    };
    return ownMessageEvent(message, "QUEUED", { occurredAt: now, metadata });
  });
  return (await storeEvents(tx, events, now)).updates;
}
