import type { Channel, MessageRecord, MessageStatus, ReceiptEventType, TransferRecord, TransferStatus } from "./model.js";

/** Forward-only progress of a live message. */
const PROGRESS_RANK: Partial<Record<MessageStatus, number>> = { QUEUED: 0, SENT: 1, DELIVERED: 2, READ: 3 };
const TERMINAL: ReadonlySet<MessageStatus> = new Set(["FAILED", "REVOKED", "SUPPRESSED"]);

export function isAlive(status: MessageStatus): boolean {
  return !TERMINAL.has(status);
}

/**
 * The message state machine: `(status, event) → status`. Out-of-order and duplicate events are
 * normal, so progress only moves forward, terminal states stay, and FAILED/REVOKED never undo a
 * delivery — except an email bounce, which may arrive after the receiving server accepted it.
 */
export function nextMessageStatus(current: MessageStatus, event: ReceiptEventType, channel: Channel): MessageStatus {
  if (TERMINAL.has(current)) return current;
  const currentRank = PROGRESS_RANK[current]!;
  switch (event) {
    case "QUEUED":
    case "SENT":
    case "DELIVERED":
    case "READ":
      return PROGRESS_RANK[event]! > currentRank ? event : current;
    case "FAILED":
      if (currentRank >= PROGRESS_RANK.DELIVERED! && channel !== "EMAIL") return current;
      return "FAILED";
    case "REVOKED":
      return currentRank >= PROGRESS_RANK.DELIVERED! ? current : "REVOKED";
    default:
      return current;
  }
}

/**
 * A transfer's status, rebuilt from its messages: revoked and downloaded are facts of the
 * transfer itself; otherwise the furthest progress among live messages, EXPIRED once past its
 * expiry, and FAILED only when no message is left alive or about to fall back to another channel.
 */
export function deriveTransferStatus(
  transfer: Pick<TransferRecord, "revokedAt" | "downloadedAt" | "expiresAt">,
  messages: ReadonlyArray<Pick<MessageRecord, "status"> & Partial<Pick<MessageRecord, "fallbackAt">>>,
  now: Date,
): TransferStatus {
  if (transfer.revokedAt) return "REVOKED";
  if (transfer.downloadedAt) return "DOWNLOADED";
  if (transfer.expiresAt.getTime() <= now.getTime()) return "EXPIRED";
  let furthest: MessageStatus | undefined;
  for (const { status } of messages) {
    const rank = PROGRESS_RANK[status];
    if (rank !== undefined && (furthest === undefined || rank > PROGRESS_RANK[furthest]!)) furthest = status;
  }
  if (furthest) return furthest as TransferStatus;
  const fallingBack = messages.some((message) => message.fallbackAt);
  return messages.length > 0 && !fallingBack ? "FAILED" : "QUEUED";
}
