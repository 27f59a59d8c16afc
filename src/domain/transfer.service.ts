import { createHash } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Principal } from "../auth/access-tokens.js";
import type { Database, Transaction } from "../db/client.js";
import { messages, transfers } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import { DomainError } from "./errors.js";
import { newId } from "./ids.js";
import { emailSchema, parseInput, phoneSchema } from "./validation.js";
import { CHANNELS, type Channel, type OwnEventSource, type RevokeOutcome, type TransferRecord, type TransferUpdate, type TransferView } from "./model.js";
import { fallbackDueAt, initialMessages, type PlannedMessage, policyOf } from "./delivery-policy.js";
import { tenantDeliveryPolicy } from "./delivery-policy.service.js";
import { type IncomingEvent, loadTransferViews, ownMessageEvent, storeEvents } from "./receipt-store.js";

const DEFAULT_LIFETIME_MS = 7 * 24 * 3600 * 1000;
const MAX_LIFETIME_MS = 90 * 24 * 3600 * 1000;

const createTransferSchema = z
  .object({
    recipient: z.object({
      phone: phoneSchema.optional(),
      email: emailSchema.optional(),
    }),
    fileName: z.string().trim().min(1, "fileName is required").max(255),
    fileSizeBytes: z.number().int().min(0, "fileSizeBytes must not be negative"),
    description: z.string().max(1000).optional(),
    senderName: z.string().trim().min(1, "senderName is required").max(100),
    expiresAt: z.date().optional(),
    idempotencyKey: z.string().min(1).max(255).optional(),
  })
  .refine((input) => input.recipient.phone || input.recipient.email, {
    message: "recipient needs a phone or an email",
    path: ["recipient"],
  });

export type CreateTransferCommand = z.input<typeof createTransferSchema>;

const resendSchema = z.object({
  transferId: z.string().min(1),
  channel: z.enum(CHANNELS).optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
});

export type ResendCommand = z.input<typeof resendSchema>;

const recordDownloadSchema = z.object({
  transferId: z.string().min(1),
  downloadedAt: z.date().optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
});

export type RecordDownloadCommand = z.input<typeof recordDownloadSchema>;

/** Who asked, from where: every change lands in the audit log with it. */
export interface Caller {
  principal: Principal;
  ip?: string;
  client?: string;
}

export interface TransferServiceDeps {
  db: Database;
  /** The provider each channel's messages are sent through (adapters decide). */
  providerFor: (channel: Channel) => string;
  /** Called after commit so the dispatcher picks the new messages up at once. */
  onQueued(): void;
  publishUpdates(updates: TransferUpdate[]): void;
  /**
   * Asks the message's provider to withdraw it, where the provider can (undefined: it cannot).
   * Called after the revocation is committed.
   */
  revokeAtProvider?: (message: { channel: Channel; provider: string; providerMessageId: string }) => Promise<RevokeOutcome | undefined>;
}

export class TransferService {
  constructor(private readonly deps: TransferServiceDeps) {}

  /**
   * Stores the transfer and queues its notifications in one transaction: RCS to a phone, an email
   * copy to an email address. The same idempotency key returns the same transfer and queues nothing.
   */
  async create(caller: Caller, command: CreateTransferCommand, now = new Date()): Promise<TransferView> {
    const input = parseInput(createTransferSchema, command);
    const expiresAt = input.expiresAt ?? new Date(now.getTime() + DEFAULT_LIFETIME_MS);
    if (expiresAt.getTime() <= now.getTime()) throw new DomainError("BAD_USER_INPUT", "expiresAt must be in the future", { field: "expiresAt" });
    if (expiresAt.getTime() - now.getTime() > MAX_LIFETIME_MS) throw new DomainError("BAD_USER_INPUT", "expiresAt must be within 90 days", { field: "expiresAt" });
    const { tenantId } = caller.principal;
    const { idempotencyKey, ...fingerprinted } = input;
    const fingerprint = createHash("sha256").update(JSON.stringify(fingerprinted)).digest("hex");

    const result = await this.deps.db.transaction(async (tx) => {
      const id = newId("tx");
      const { policy } = await tenantDeliveryPolicy(tx, tenantId);
      const [created] = await tx
        .insert(transfers)
        .values({
          id,
          tenantId,
          senderName: input.senderName,
          recipientPhone: input.recipient.phone ?? null,
          recipientEmail: input.recipient.email ?? null,
          fileName: input.fileName,
          fileSizeBytes: input.fileSizeBytes,
          description: input.description ?? null,
          expiresAt,
          status: "QUEUED",
          deliveryPolicy: policy,
          idempotencyKey: idempotencyKey ?? null,
          idempotencyFingerprint: idempotencyKey ? fingerprint : null,
          createdBy: caller.principal.subject,
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing({ target: [transfers.tenantId, transfers.idempotencyKey] })
        .returning();
      if (!created) {
        const [existing] = await tx
          .select({ id: transfers.id, fingerprint: transfers.idempotencyFingerprint })
          .from(transfers)
          .where(and(eq(transfers.tenantId, tenantId), eq(transfers.idempotencyKey, idempotencyKey!)));
        if (existing?.fingerprint !== fingerprint) {
          throw new DomainError("CONFLICT", "idempotencyKey was already used with different input", { transferId: existing?.id });
        }
        return { id: existing.id, created: false, updates: [] };
      }

      const planned = initialMessages(policy, created, now);
      const channels = planned.map((message) => message.channel);
      await recordAudit(tx, caller, "transfer.create", id, { channels, idempotencyKey: idempotencyKey ?? null }, now);
      const updates = await queueMessages(tx, created, planned, { providerFor: this.deps.providerFor, now });
      return { id, created: true, updates };
    });

    if (result.created) {
      this.deps.publishUpdates(result.updates);
      this.deps.onQueued();
    }
    const [view] = await loadTransferViews(this.deps.db, [result.id]);
    return view!;
  }

  /**
   * Revokes the transfer: messages not yet handed to a provider are never sent, and every message
   * short of delivery becomes REVOKED. Delivered and read messages keep their status (the
   * recipient has seen it). Revoking twice changes nothing.
   */
  async revoke(caller: Caller, transferId: string, reason: string | undefined, now = new Date()): Promise<TransferView> {
    const { updates, inFlight } = await this.deps.db.transaction(async (tx) => {
      const transfer = await this.lockOwnTransfer(tx, caller.principal, transferId);
      if (transfer.revokedAt) return { updates: [], inFlight: [] };
      await tx.update(transfers).set({ revokedAt: now, updatedAt: now }).where(eq(transfers.id, transferId));
      const own = await tx
        .update(messages)
        .set({ dispatchState: "done", leaseUntil: null, updatedAt: now })
        .where(eq(messages.transferId, transferId))
        .returning({
          id: messages.id,
          transferId: messages.transferId,
          channel: messages.channel,
          provider: messages.provider,
          providerMessageId: messages.providerMessageId,
          status: messages.status,
        });
      await recordAudit(tx, caller, "transfer.revoke", transferId, { reason: reason ?? null }, now);
      const revoked = own.map((message) =>
        ownMessageEvent(message, "REVOKED", { occurredAt: now, metadata: { reason: reason ?? "revoked by the sender", revoked_by: caller.principal.subject } }),
      );
      // Handed to a provider and not yet delivered: the provider may still withdraw it.
      const atProvider = own.flatMap((message) =>
        message.providerMessageId && (message.status === "QUEUED" || message.status === "SENT") ? [{ ...message, providerMessageId: message.providerMessageId }] : [],
      );
      return { updates: (await storeEvents(tx, revoked, now)).updates, inFlight: atProvider };
    });
    this.deps.publishUpdates(updates);
    await this.withdrawAtProviders(inFlight);
    const [view] = await loadTransferViews(this.deps.db, [transferId]);
    return view!;
  }

  /**
   * Best effort, after the revocation is durable: each provider that can withdraw an accepted
   * message is asked to, and its answer is recorded on the message as a REVOKED event.
   */
  private async withdrawAtProviders(inFlight: Array<{ id: string; transferId: string; channel: Channel; provider: string; providerMessageId: string }>): Promise<void> {
    const { revokeAtProvider } = this.deps;
    if (!revokeAtProvider || inFlight.length === 0) return;
    const answers = await Promise.all(inFlight.map(async (message) => ({ message, outcome: await revokeAtProvider(message) })));
    const events = answers.flatMap(({ message, outcome }) =>
      outcome
        ? [
            ownMessageEvent(message, "REVOKED", {
              occurredAt: new Date(),
              dedupeKey: `ackline:${message.id}:provider-revoke`,
              metadata: { provider_revoke: outcome.revoked ? "accepted" : "refused", code: outcome.code ?? null, error: outcome.error ?? null },
            }),
          ]
        : [],
    );
    if (events.length === 0) return;
    this.deps.publishUpdates(await this.deps.db.transaction(async (tx) => (await storeEvents(tx, events)).updates));
  }

  /**
   * Queues the notification again on a channel (by default RCS to a phone, else email). The same
   * idempotency key for the same transfer queues nothing again.
   */
  async resend(caller: Caller, command: ResendCommand, now = new Date()): Promise<TransferView> {
    const input = parseInput(resendSchema, command);
    const queued = await this.deps.db.transaction(async (tx) => {
      const transfer = await this.lockOwnTransfer(tx, caller.principal, input.transferId);
      if (transfer.revokedAt) throw new DomainError("CONFLICT", "the transfer is revoked", { transferId: transfer.id });
      if (transfer.expiresAt.getTime() <= now.getTime()) throw new DomainError("CONFLICT", "the transfer has expired", { transferId: transfer.id });
      const channel = input.channel ?? (transfer.recipientPhone ? "RCS" : "EMAIL");
      const address = channel === "EMAIL" ? transfer.recipientEmail : transfer.recipientPhone;
      if (!address) throw new DomainError("BAD_USER_INPUT", `the recipient has no ${channel === "EMAIL" ? "email" : "phone"} for ${channel}`, { field: "channel" });
      const resent = { channel, notBefore: now, reason: `resent by ${caller.principal.subject}` };
      const updates = await queueMessages(tx, transfer, [resent], { providerFor: this.deps.providerFor, now, idempotencyKey: input.idempotencyKey });
      if (updates.length > 0) await recordAudit(tx, caller, "transfer.resend", transfer.id, { channel, idempotencyKey: input.idempotencyKey ?? null }, now);
      return updates;
    });
    if (queued.length > 0) {
      this.deps.publishUpdates(queued);
      this.deps.onQueued();
    }
    const [view] = await loadTransferViews(this.deps.db, [input.transferId]);
    return view!;
  }

  /**
   * Records a download the partner's own storage saw: the transfer becomes DOWNLOADED (above
   * READ), with a DOWNLOADED event. The same idempotency key records it once.
   */
  async recordDownload(caller: Caller, command: RecordDownloadCommand, now = new Date()): Promise<TransferView> {
    const input = parseInput(recordDownloadSchema, command);
    const at = input.downloadedAt ?? now;
    if (at.getTime() > now.getTime()) throw new DomainError("BAD_USER_INPUT", "downloadedAt must not be in the future", { field: "downloadedAt" });
    const updates = await this.deps.db.transaction(async (tx) => {
      const transfer = await this.lockOwnTransfer(tx, caller.principal, input.transferId);
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

  /** The recipient downloads through the signed link: recorded like `recordDownload`, audited as the recipient. */
  async recordLinkDownload(transferId: string, client: { ip?: string; userAgent?: string }, now = new Date()): Promise<TransferView> {
    const updates = await this.deps.db.transaction(async (tx) => {
      const [transfer] = await tx.select().from(transfers).where(eq(transfers.id, transferId)).for("update");
      if (!transfer) throw new DomainError("NOT_FOUND", `transfer ${transferId} not found`);
      const metadata = { ip: client.ip ?? null, user_agent: client.userAgent ?? null };
      const stored = await markDownloaded(tx, transfer, { at: now, source: "gateway", dedupeKey: `download:${transfer.id}:${newId("dl")}`, metadata }, now);
      await recordAudit(tx, recipientOf(transfer.tenantId, client), "transfer.download", transfer.id, { via: "link" }, now);
      return stored;
    });
    this.deps.publishUpdates(updates);
    const [view] = await loadTransferViews(this.deps.db, [transferId]);
    return view!;
  }

  /**
   * The recipient unsubscribes from an email (its one-click link): an OPT_OUT on that message,
   * which suppresses the address for the tenant. Doing it again changes nothing.
   */
  async recordUnsubscribe(messageId: string, client: { ip?: string; userAgent?: string; oneClick: boolean }, now = new Date()): Promise<{ email: string }> {
    const { updates, email } = await this.deps.db.transaction(async (tx) => {
      const [row] = await tx.select({ message: messages, transfer: transfers }).from(messages).innerJoin(transfers, eq(transfers.id, messages.transferId)).where(eq(messages.id, messageId));
      const address = row?.message.channel === "EMAIL" ? row.transfer.recipientEmail : null;
      if (!row || !address) throw new DomainError("NOT_FOUND", `email message ${messageId} not found`);
      const metadata = { via: client.oneClick ? "one-click" : "page", ip: client.ip ?? null, user_agent: client.userAgent ?? null };
      const optOut = ownMessageEvent(row.message, "OPT_OUT", { occurredAt: now, metadata, source: "unsubscribe", dedupeKey: `unsubscribe:${messageId}` });
      const stored = await storeEvents(tx, [optOut], now);
      if (stored.outcomes[0]?.stored) await recordAudit(tx, recipientOf(row.transfer.tenantId, client), "suppression.unsubscribe", row.transfer.id, { address }, now);
      return { updates: stored.updates, email: address };
    });
    this.deps.publishUpdates(updates);
    return { email };
  }

  /** The caller's transfer, locked; another tenant's is as absent as a missing one. */
  private async lockOwnTransfer(tx: Transaction, principal: Principal, transferId: string) {
    const [transfer] = await tx
      .select()
      .from(transfers)
      .where(and(eq(transfers.id, transferId), eq(transfers.tenantId, principal.tenantId)))
      .for("update");
    if (!transfer) throw new DomainError("NOT_FOUND", `transfer ${transferId} not found`);
    return transfer;
  }

  /** Null when absent or another tenant's: the caller cannot tell the two apart. */
  async get(principal: Principal, id: string): Promise<TransferView | null> {
    const [view] = await loadTransferViews(this.deps.db, [id]);
    return view && view.tenantId === principal.tenantId ? view : null;
  }
}

/** The recipient, acting through a signed link: audited under the tenant whose transfer it is. */
function recipientOf(tenantId: string, client: { ip?: string; userAgent?: string }): Caller {
  return { principal: { tenantId, subject: "recipient", scopes: new Set(), expiresAt: 0 }, ip: client.ip, client: client.userAgent };
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
  if (transfer.revokedAt) throw new DomainError("CONFLICT", "the transfer is revoked", { transferId: transfer.id });
  if (download.at.getTime() >= transfer.expiresAt.getTime()) throw new DomainError("CONFLICT", "the transfer had expired by then", { transferId: transfer.id });
  await tx
    .update(transfers)
    .set({ downloadedAt: sql`coalesce(${transfers.downloadedAt}, ${download.at.toISOString()}::timestamptz)`, updatedAt: now })
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

/** A transfer as queueing reads it: where it goes, until when, under which policy. */
type QueueTarget = Pick<typeof transfers.$inferSelect, "id" | "tenantId" | "recipientPhone" | "recipientEmail" | "expiresAt" | "deliveryPolicy">;

/**
 * Queues planned messages, each with its QUEUED event saying why, and arms each one's fallback
 * timer by the transfer's policy. A known idempotency key, or a second fallback of the same
 * message, queues nothing.
 */
export async function queueMessages(
  tx: Transaction,
  transfer: QueueTarget,
  planned: Array<PlannedMessage & { fallbackOfMessageId?: string }>,
  options: { providerFor: (channel: Channel) => string; now: Date; idempotencyKey?: string },
): Promise<TransferUpdate[]> {
  const { now } = options;
  const policy = policyOf(transfer.deliveryPolicy);
  const rows = planned.map((plan) => {
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

