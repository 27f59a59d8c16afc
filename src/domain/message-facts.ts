import type { ReceiptEventType } from "./model.js";

/**
 * What statistics read of a message, kept on its row by the fold: the first carrier and region
 * its receipts named, and the provider time of its first SENT, DELIVERED, READ and FAILED. A
 * delivered or read message was sent, so those set `sentAt` too. Times only move earlier, so a
 * late receipt folded after a newer one still leaves the first.
 */
export interface MessageFacts {
  carrier: string | null;
  region: string | null;
  sentAt: Date | null;
  deliveredAt: Date | null;
  readAt: Date | null;
  failedAt: Date | null;
}

const TIMES_SET: Partial<Record<ReceiptEventType, Array<keyof MessageFacts & `${string}At`>>> = {
  SENT: ["sentAt"],
  DELIVERED: ["sentAt", "deliveredAt"],
  READ: ["sentAt", "readAt"],
  FAILED: ["failedAt"],
};

const FACT_KEYS = ["carrier", "region", "sentAt", "deliveredAt", "readAt", "failedAt"] as const;

function earliest(current: Date | null, candidate: Date): Date {
  return current && current.getTime() <= candidate.getTime() ? current : candidate;
}

/** Folds one event's facts into the message (in place). */
export function foldFacts(message: MessageFacts, event: { event: ReceiptEventType; occurredAt: Date; carrier: string | null; region: string | null }): void {
  message.carrier ??= event.carrier;
  message.region ??= event.region;
  for (const key of TIMES_SET[event.event] ?? []) message[key] = earliest(message[key], event.occurredAt);
}

export function factsChanged(before: MessageFacts, after: MessageFacts): boolean {
  return FACT_KEYS.some((key) => {
    const a = before[key];
    const b = after[key];
    return a instanceof Date && b instanceof Date ? a.getTime() !== b.getTime() : a !== b;
  });
}
