import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database, Transaction } from "../db/client.js";
import { receiptEvents, transfers } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import { type Caller, recipientOf } from "./caller.js";
import type { DownloadReceipts } from "./download-receipt.js";
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
  /** Signs the receipt of each transfer's first download. */
  receipts: DownloadReceipts;
  /** Emails a receipt to the sender, after commit; best effort (it reports its own failures). */
  emailReceipt?(receipt: { to: string; transfer: TransferRecord; jws: string }): Promise<void>;
}

/** What recording a download did: the updates to publish, and the receipt when it was the first. */
interface Recorded {
  updates: TransferUpdate[];
  receipt?: { transfer: TransferRecord; jws: string };
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
    const recorded = await this.deps.db.transaction(async (tx) => {
      const transfer = await lockOwnTransfer(tx, caller.principal, input.transferId);
      const dedupeKey = `download:${transfer.id}:${input.idempotencyKey ?? newId("dl")}`;
      const download = { at, source: "api" as const, dedupeKey, ip: null, metadata: { recorded_by: caller.principal.subject } };
      const stored = await this.markDownloaded(tx, transfer, download, now);
      if (stored.updates.length > 0) await recordAudit(tx, caller, "transfer.download", transfer.id, { downloadedAt: at.toISOString(), idempotencyKey: input.idempotencyKey ?? null }, now);
      return stored;
    });
    this.afterCommit(recorded);
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
    const recorded = await this.deps.db.transaction(async (tx) => {
      const [transfer] = await tx.select().from(transfers).where(eq(transfers.id, transferId)).for("update");
      if (!transfer) throw new DomainError("NOT_FOUND", `transfer ${transferId} not found`);
      const { maxDownloads } = securityOf(transfer.securityPolicy);
      if (maxDownloads !== null && transfer.downloadCount >= maxDownloads) {
        throw new DomainError("CONFLICT", "this link has been used the number of times it allows", { transferId, reason: "exhausted" });
      }
      const ip = client.ip ?? null;
      const metadata = { ip, user_agent: client.userAgent ?? null, ...(link && { message_id: link.messageId, channel: link.channel }) };
      const stored = await this.markDownloaded(tx, transfer, { at: now, source: "gateway", dedupeKey: `download:${transfer.id}:${newId("dl")}`, ip, metadata }, now);
      await recordAudit(tx, recipientOf(transfer.tenantId, client), "transfer.download", transfer.id, { via: link ? "short-link" : "link", ...link, downloadNumber: transfer.downloadCount + 1 }, now);
      return stored;
    });
    this.afterCommit(recorded);
    const [view] = await loadTransferViews(this.deps.db, [transferId]);
    return view!;
  }

  /**
   * Marks the (locked) transfer downloaded — the first download's time stands — and stores the
   * DOWNLOADED event. The first download also issues the signed receipt: kept on the transfer and
   * carried in the event's `receipt`. Nothing is downloaded from a revoked transfer, or after its expiry.
   */
  private async markDownloaded(
    tx: Transaction,
    transfer: TransferRecord,
    download: { at: Date; source: OwnEventSource; dedupeKey: string; ip: string | null; metadata: Record<string, unknown> },
    now: Date,
  ): Promise<Recorded> {
    if (transfer.revokedAt) throw new DomainError("CONFLICT", "the transfer is revoked", { transferId: transfer.id, reason: "revoked" });
    if (download.at.getTime() >= transfer.expiresAt.getTime()) throw new DomainError("CONFLICT", "the transfer had expired by then", { transferId: transfer.id, reason: "expired" });
    // A repeated report (the same idempotency key) is no second download; the transfer's lock orders them.
    const [known] = await tx.select({ id: receiptEvents.id }).from(receiptEvents).where(eq(receiptEvents.dedupeKey, download.dedupeKey));
    if (known) return { updates: [] };
    const jws = transfer.downloadedAt ? undefined : await this.deps.receipts.issue(tx, transfer, download);
    await tx
      .update(transfers)
      .set({
        downloadedAt: sql`coalesce(${transfers.downloadedAt}, ${download.at.toISOString()}::timestamptz)`,
        downloadCount: sql`${transfers.downloadCount} + 1`,
        ...(jws ? { downloadReceipt: jws } : {}),
        updatedAt: now,
      })
      .where(eq(transfers.id, transfer.id));
    const metadata = jws ? { ...download.metadata, receipt: jws } : download.metadata;
    const event: IncomingEvent = {
      event: "DOWNLOADED",
      occurredAt: download.at,
      provider: "ackline",
      source: download.source,
      correlation: { transferId: transfer.id },
      dedupeKey: download.dedupeKey,
      metadata,
      raw: { transfer_id: transfer.id, event: "downloaded", ...metadata },
    };
    const { updates } = await storeEvents(tx, [event], now);
    return jws ? { updates, receipt: { transfer, jws } } : { updates };
  }

  /** Publishes what was recorded and, for a first download, emails the receipt to the sender (not awaited). */
  private afterCommit({ updates, receipt }: Recorded): void {
    this.deps.publishUpdates(updates);
    if (receipt?.transfer.senderEmail) void this.deps.emailReceipt?.({ to: receipt.transfer.senderEmail, ...receipt });
  }
}
