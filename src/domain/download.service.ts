import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database, Transaction } from "../db/client.js";
import { receiptEvents, transfers } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import { type Caller, recipientOf } from "./caller.js";
import { DomainError } from "./errors.js";
import { newId } from "./ids.js";
import type { Channel, OwnEventSource, TransferRecord, TransferUpdate, TransferView } from "./model.js";
import { type IncomingEvent, loadTransferViews, storeEvents } from "./receipt-store.js";
import { lockOwnTransfer } from "./transfer-access.js";
import { securityOf } from "./transfer-security.js";
import { parseInput } from "./validation.js";

const recordDownloadSchema = z.object({
  transferId: z.string().min(1),
  downloadedAt: z.date().optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
});

export type RecordDownloadCommand = z.input<typeof recordDownloadSchema>;

export interface DownloadServiceDeps {
  db: Database;
  publishUpdates(updates: TransferUpdate[]): void;
}

/** Downloads: reported by the partner's storage, or made by the recipient through the link. */
export class DownloadService {
  constructor(private readonly deps: DownloadServiceDeps) {}

  /**
   * Records a download the partner's own storage saw: the transfer becomes DOWNLOADED (above
   * READ), with a DOWNLOADED event. The same idempotency key records it once.
   */
  async recordDownload(caller: Caller, command: RecordDownloadCommand, now = new Date()): Promise<TransferView> {
    const input = parseInput(recordDownloadSchema, command);
    const at = input.downloadedAt ?? now;
    if (at.getTime() > now.getTime()) throw new DomainError("BAD_USER_INPUT", "downloadedAt must not be in the future", { field: "downloadedAt" });
    const updates = await this.deps.db.transaction(async (tx) => {
      const transfer = await lockOwnTransfer(tx, caller.principal, input.transferId);
      const dedupeKey = `download:${transfer.id}:${input.idempotencyKey ?? newId("dl")}`;
      const stored = await markDownloaded(tx, transfer, { at, source: "api", dedupeKey, metadata: { recorded_by: caller.principal.subject } }, now);
      if (stored.length > 0) await recordAudit(tx, caller, "transfer.download", transfer.id, { downloadedAt: at.toISOString(), idempotencyKey: input.idempotencyKey ?? null }, now);
      return stored;
    });
    this.deps.publishUpdates(updates);
    const [view] = await loadTransferViews(this.deps.db, [input.transferId]);
    return view!;
  }

  /** A transfer as its signed download link shows it to the recipient (the link has been verified). */
  async forLink(transferId: string): Promise<TransferRecord | undefined> {
    const [transfer] = await this.deps.db.select().from(transfers).where(eq(transfers.id, transferId));
    return transfer;
  }

  /**
   * The recipient downloads through a link (a short `/d/` link, naming its message and channel, or
   * an old `/t/` link): under the transfer's lock, so concurrent clicks are counted one at a time
   * against `maxDownloads` — past it the download is refused (CONFLICT, reason `exhausted`).
   * Recorded like `recordDownload`, with the client's address and agent, audited as the recipient.
   */
  async recordLinkDownload(
    transferId: string,
    client: { ip?: string; userAgent?: string },
    now = new Date(),
    link?: { messageId: string; channel: Channel },
  ): Promise<TransferView> {
    const updates = await this.deps.db.transaction(async (tx) => {
      const [transfer] = await tx.select().from(transfers).where(eq(transfers.id, transferId)).for("update");
      if (!transfer) throw new DomainError("NOT_FOUND", `transfer ${transferId} not found`);
      const recipient = recipientOf(transfer.tenantId, client);
      const { maxDownloads } = securityOf(transfer.securityPolicy);
      if (maxDownloads !== null && transfer.downloadCount >= maxDownloads) {
        throw new DomainError("CONFLICT", "this link has been used the number of times it allows", { transferId, reason: "exhausted" });
      }
      const metadata = { ip: client.ip ?? null, user_agent: client.userAgent ?? null, ...(link && { message_id: link.messageId, channel: link.channel }) };
      const stored = await markDownloaded(tx, transfer, { at: now, source: "gateway", dedupeKey: `download:${transfer.id}:${newId("dl")}`, metadata }, now);
      await recordAudit(tx, recipient, "transfer.download", transfer.id, { via: link ? "short-link" : "link", ...link, downloadNumber: transfer.downloadCount + 1 }, now);
      return stored;
    });
    this.deps.publishUpdates(updates);
    const [view] = await loadTransferViews(this.deps.db, [transferId]);
    return view!;
  }
}

/**
 * Marks the (locked) transfer downloaded — the first download's time stands — and stores the
 * DOWNLOADED event. Nothing is downloaded from a revoked transfer, or after its expiry.
 */
async function markDownloaded(
  tx: Transaction,
  transfer: Pick<TransferRecord, "id" | "revokedAt" | "expiresAt">,
  download: { at: Date; source: OwnEventSource; dedupeKey: string; metadata: Record<string, unknown> },
  now: Date,
): Promise<TransferUpdate[]> {
  if (transfer.revokedAt) throw new DomainError("CONFLICT", "the transfer is revoked", { transferId: transfer.id, reason: "revoked" });
  if (download.at.getTime() >= transfer.expiresAt.getTime()) throw new DomainError("CONFLICT", "the transfer had expired by then", { transferId: transfer.id, reason: "expired" });
  // A repeated report (the same idempotency key) is no second download; the transfer's lock orders them.
  const [known] = await tx.select({ id: receiptEvents.id }).from(receiptEvents).where(eq(receiptEvents.dedupeKey, download.dedupeKey));
  if (known) return [];
  await tx
    .update(transfers)
    .set({
      downloadedAt: sql`coalesce(${transfers.downloadedAt}, ${download.at.toISOString()}::timestamptz)`,
      downloadCount: sql`${transfers.downloadCount} + 1`,
      updatedAt: now,
    })
    .where(eq(transfers.id, transfer.id));
  const event: IncomingEvent = {
    event: "DOWNLOADED",
    occurredAt: download.at,
    provider: "ackline",
    source: download.source,
    correlation: { transferId: transfer.id },
    dedupeKey: download.dedupeKey,
    metadata: download.metadata,
    raw: { transfer_id: transfer.id, event: "downloaded", ...download.metadata },
  };
  return (await storeEvents(tx, [event], now)).updates;
}
