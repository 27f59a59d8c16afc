import { createHash } from "node:crypto";
import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Principal } from "../auth/access-tokens.js";
import type { Database } from "../db/client.js";
import { messages, transfers } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import type { Caller } from "./caller.js";
import { DomainError } from "./errors.js";
import { newId } from "./ids.js";
import { emailSchema, parseInput, phoneSchema } from "./validation.js";
import { CHANNELS, type Channel, type RevokeOutcome, type TransferUpdate, type TransferView } from "./model.js";
import { initialMessages } from "./delivery-policy.js";
import { tenantDeliveryPolicy } from "./delivery-policy.service.js";
import { tenantSecurityPolicy } from "./security-policy.service.js";
import { securityForNewTransfer, transferSecurityInputSchema } from "./transfer-security.js";
import { queueMessages } from "./message-queue.js";
import { loadTransferViews, ownMessageEvent, storeEvents } from "./receipt-store.js";
import { lockOwnTransfer } from "./transfer-access.js";

const DEFAULT_LIFETIME_MS = 7 * 24 * 3600 * 1000;
const MAX_LIFETIME_MS = 90 * 24 * 3600 * 1000;
const MAX_RECENT = 100;

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
    senderEmail: emailSchema.optional(),
    expiresAt: z.date().optional(),
    idempotencyKey: z.string().min(1).max(255).optional(),
    fileSha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, "fileSha256 must be 64 hex digits (SHA-256)")
      .transform((hex) => hex.toLowerCase())
      .optional(),
    security: transferSecurityInputSchema.optional(),
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

export interface TransferServiceDeps {
  db: Database;
  /** The provider each channel's messages are sent through (adapters decide). */
  providerFor: (channel: Channel) => string;
  /** This deployment's STORAGE_REGION, recorded on each transfer; a tenant pinned elsewhere cannot create one here. */
  storageRegion?: string;
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
      const security = securityForNewTransfer((await tenantSecurityPolicy(tx, tenantId)).policy, input.security ?? {}, this.deps.storageRegion);
      const [created] = await tx
        .insert(transfers)
        .values({
          id,
          tenantId,
          senderName: input.senderName,
          senderEmail: input.senderEmail ?? null,
          recipientPhone: input.recipient.phone ?? null,
          recipientEmail: input.recipient.email ?? null,
          fileName: input.fileName,
          fileSizeBytes: input.fileSizeBytes,
          description: input.description ?? null,
          fileSha256: input.fileSha256 ?? null,
          securityPolicy: security,
          storageRegion: this.deps.storageRegion ?? null,
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
      const updates = await queueMessages(tx, created, planned, { providerFor: this.deps.providerFor, now, opensTransfer: true });
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
      const transfer = await lockOwnTransfer(tx, caller.principal, transferId);
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
      const transfer = await lockOwnTransfer(tx, caller.principal, input.transferId);
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

  /** Null when absent or another tenant's: the caller cannot tell the two apart. */
  async get(principal: Principal, id: string): Promise<TransferView | null> {
    const [view] = await loadTransferViews(this.deps.db, [id]);
    return view && view.tenantId === principal.tenantId ? view : null;
  }

  /** The tenant's most recent transfers, newest first (the tenant-first creation index). */
  async recent(principal: Principal, first: number): Promise<TransferView[]> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_RECENT) {
      throw new DomainError("BAD_USER_INPUT", `first must be between 1 and ${MAX_RECENT}`, { field: "first" });
    }
    const rows = await this.deps.db
      .select({ id: transfers.id })
      .from(transfers)
      .where(eq(transfers.tenantId, principal.tenantId))
      .orderBy(desc(transfers.createdAt))
      .limit(first);
    const views = new Map((await loadTransferViews(this.deps.db, rows.map((row) => row.id))).map((view) => [view.id, view]));
    return rows.map((row) => views.get(row.id)!);
  }
}
