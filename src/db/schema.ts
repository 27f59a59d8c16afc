import { sql } from "drizzle-orm";
import { bigint, boolean, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import type { DeliveryPolicy } from "../domain/delivery-policy.js";
import type { SecurityPolicy, TransferSecurity } from "../domain/transfer-security.js";
import type {
  AddressKind,
  Channel,
  Correlation,
  DeliveryOutcome,
  LoggedRequest,
  MessageStatus,
  ReceiptEventType,
  SuppressionReason,
  TransferStatus,
  WebhookDeliveryOutcome,
} from "../domain/model.js";

const moment = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: "date" });
/** Raw bytes (postgres.js reads a Buffer, PGlite a Uint8Array). */
const bytes = customType<{ data: Buffer; driverData: Uint8Array }>({ dataType: () => "bytea", fromDriver: (value) => Buffer.from(value) });

export const transfers = pgTable(
  "transfers",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    senderName: text("sender_name").notNull(),
    /** Where the signed download receipt is emailed once the file is first downloaded. */
    senderEmail: text("sender_email"),
    recipientPhone: text("recipient_phone"),
    recipientEmail: text("recipient_email"),
    fileName: text("file_name").notNull(),
    fileSizeBytes: bigint("file_size_bytes", { mode: "number" }).notNull(),
    description: text("description"),
    expiresAt: moment("expires_at").notNull(),
    /** The link TTL, download cap and OTP requirement it was created with (the tenant's policy applied). */
    securityPolicy: jsonb("security_policy").$type<Partial<TransferSecurity>>().notNull().default({}),
    /** Hex SHA-256 of the file, as the sender declared it: an upload to embedded storage must match, and the receipt's `file_sha256` names it. */
    fileSha256: text("file_sha256"),
    /** Downloads recorded (through links, or reported with recordDownload); links refuse past `maxDownloads`. */
    downloadCount: integer("download_count").notNull().default(0),
    /** The deployment's STORAGE_REGION when it was created (null: none configured). */
    storageRegion: text("storage_region"),
    /** The tenant's delivery policy when the transfer was created: it governs all its sends and fallbacks. */
    deliveryPolicy: jsonb("delivery_policy").$type<DeliveryPolicy>(),
    status: text("status").$type<TransferStatus>().notNull(),
    revokedAt: moment("revoked_at"),
    downloadedAt: moment("downloaded_at"),
    /** The signed receipt (compact JWS) issued when the file was first downloaded. */
    downloadReceipt: text("download_receipt"),
    /** How many events have been folded into this transfer: the last `receipt_events.seq` it handed out. */
    eventSeq: bigint("event_seq", { mode: "number" }).notNull().default(0),
    idempotencyKey: text("idempotency_key"),
    /** SHA-256 of the create input, so a reused key with different input is a conflict. */
    idempotencyFingerprint: text("idempotency_fingerprint"),
    createdBy: text("created_by"),
    createdAt: moment("created_at").notNull().defaultNow(),
    updatedAt: moment("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("transfers_tenant_idempotency_key").on(t.tenantId, t.idempotencyKey),
    index("transfers_tenant_created").on(t.tenantId, t.createdAt),
    index("transfers_recipient_phone_created").on(t.recipientPhone, t.createdAt),
  ],
);

export const messages = pgTable(
  "messages",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    transferId: text("transfer_id")
      .notNull()
      .references(() => transfers.id),
    channel: text("channel").$type<Channel>().notNull(),
    provider: text("provider").notNull(),
    providerMessageId: text("provider_message_id").unique(),
    /** Sent to the provider with every attempt, so a repeated send is dropped there. */
    clientMessageId: text("client_message_id").notNull().unique(),
    status: text("status").$type<MessageStatus>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    /** Set by resendNotification: the same key for the same transfer queues nothing again. */
    idempotencyKey: text("idempotency_key"),
    /** pending → sending (leased) → done; a lapsed lease is claimed again. */
    dispatchState: text("dispatch_state").$type<"pending" | "sending" | "done">().notNull().default("pending"),
    nextAttemptAt: moment("next_attempt_at").notNull().defaultNow(),
    leaseUntil: moment("lease_until"),
    /** The message this one falls back from (at most one fallback each), and why. */
    fallbackOfMessageId: text("fallback_of_message_id").unique(),
    fallbackReason: text("fallback_reason"),
    /**
     * When this message falls back to the next channel unless delivered first; a failure makes it
     * due at once, delivery disarms it (null: no fallback armed).
     */
    fallbackAt: moment("fallback_at"),
    /** The first message queued for its transfer: statistics count the transfer (and its download) in its row. */
    opensTransfer: boolean("opens_transfer").notNull().default(false),
    /** The first carrier and region its receipts named (see README, "Analytics"). */
    carrier: text("carrier"),
    region: text("region"),
    /** The provider time of its first SENT (or later: DELIVERED, READ), first DELIVERED, first READ and first FAILED event. */
    sentAt: moment("sent_at"),
    deliveredAt: moment("delivered_at"),
    readAt: moment("read_at"),
    failedAt: moment("failed_at"),
    createdAt: moment("created_at").notNull().defaultNow(),
    updatedAt: moment("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("messages_transfer").on(t.transferId),
    index("messages_fallback_due").on(t.fallbackAt).where(sql`fallback_at IS NOT NULL`),
    uniqueIndex("messages_transfer_idempotency_key").on(t.transferId, t.idempotencyKey),
    index("messages_dispatch_due").on(t.nextAttemptAt).where(sql`dispatch_state <> 'done'`),
  ],
);

export const receiptEvents = pgTable(
  "receipt_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    /** Null while unmatched: visible to no tenant until its message is known. */
    tenantId: text("tenant_id"),
    transferId: text("transfer_id"),
    messageId: text("message_id"),
    providerMessageId: text("provider_message_id"),
    phone: text("phone"),
    channel: text("channel").$type<Channel>(),
    event: text("event").$type<ReceiptEventType>().notNull(),
    /** The provider's own event time. */
    occurredAt: moment("occurred_at").notNull(),
    receivedAt: moment("received_at").notNull().defaultNow(),
    provider: text("provider").notNull(),
    /** The webhook door the event came through, or Ackline's own source (OWN_EVENT_SOURCES in domain/model.ts). */
    source: text("source").notNull(),
    carrier: text("carrier"),
    region: text("region"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    raw: jsonb("raw").notNull(),
    dedupeKey: text("dedupe_key").notNull().unique(),
    /**
     * Appended by a webhook door and acknowledged, not yet folded into statuses by the applier.
     * Until then the event belongs to no tenant; the correlation below says where it points.
     */
    pending: boolean("pending").notNull().default(false),
    /** What the event names to find its message by (the applier reads it; kept as evidence). */
    correlation: jsonb("correlation").$type<Correlation>(),
    /**
     * Its place among its transfer's events (1, 2, 3…), given when it is folded under the
     * transfer's lock; null while unmatched. Subscribers resume after one (TransferUpdate.cursor).
     */
    seq: bigint("seq", { mode: "number" }),
    /**
     * The logged webhook delivery it came in (webhook_deliveries.id), whose raw body is kept once
     * for all its events; null for Ackline's own. No foreign key: the log expires, the events stay.
     */
    deliveryId: uuid("delivery_id"),
  },
  (t) => [
    // Only events a tenant can see: an append (pending, tenant unknown) then touches neither index.
    index("receipt_events_tenant_transfer_occurred").on(t.tenantId, t.transferId, t.occurredAt).where(sql`tenant_id IS NOT NULL`),
    index("receipt_events_tenant_occurred_id").on(t.tenantId, t.occurredAt, t.id).where(sql`tenant_id IS NOT NULL`),
    index("receipt_events_unmatched").on(t.providerMessageId).where(sql`message_id IS NULL AND NOT pending`),
    index("receipt_events_pending").on(t.id).where(sql`pending`),
    uniqueIndex("receipt_events_transfer_seq").on(t.transferId, t.seq),
  ],
);

/** One row per send attempt: when, how it ended, and the provider's answer. */
export const deliveryAttempts = pgTable(
  "delivery_attempts",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    tenantId: text("tenant_id").notNull(),
    messageId: text("message_id")
      .notNull()
      .references(() => messages.id),
    attempt: integer("attempt").notNull(),
    at: moment("at").notNull(),
    provider: text("provider").notNull(),
    outcome: text("outcome").$type<DeliveryOutcome>().notNull(),
    /** The provider's HTTP (or SMTP) status, when it answered. */
    code: integer("code"),
    error: text("error"),
    /** When the next attempt is due, for a transient failure. */
    retryAt: moment("retry_at"),
  },
  (t) => [uniqueIndex("delivery_attempts_message_attempt").on(t.messageId, t.attempt)],
);

/** Addresses a tenant must not notify: opted out, complained, bounced, or added by hand. */
export const suppressions = pgTable(
  "suppressions",
  {
    tenantId: text("tenant_id").notNull(),
    /** `phone` suppresses RCS and SMS; `email` suppresses email. */
    kind: text("kind").$type<AddressKind>().notNull(),
    address: text("address").notNull(),
    reason: text("reason").$type<SuppressionReason>().notNull(),
    note: text("note"),
    /** The receipt event that caused it, when one did. */
    eventId: bigint("event_id", { mode: "number" }),
    createdBy: text("created_by").notNull(),
    createdAt: moment("created_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.kind, t.address] }), index("suppressions_tenant_created").on(t.tenantId, t.createdAt)],
);

/** Each tenant's delivery policy; a tenant without a row has the default. */
export const deliveryPolicies = pgTable("delivery_policies", {
  tenantId: text("tenant_id").primaryKey(),
  policy: jsonb("policy").$type<DeliveryPolicy>().notNull(),
  updatedBy: text("updated_by").notNull(),
  updatedAt: moment("updated_at").notNull(),
});

/** Each tenant's security defaults (link TTL, downloads, OTP, compliance mode, residency); no row: the default. */
export const securityPolicies = pgTable("security_policies", {
  tenantId: text("tenant_id").primaryKey(),
  policy: jsonb("policy").$type<SecurityPolicy>().notNull(),
  updatedBy: text("updated_by").notNull(),
  updatedAt: moment("updated_at").notNull(),
});

/**
 * The one-time code a short link's download waits for (one live code per link, i.e. per message):
 * stored hashed, void after its expiry or its fifth wrong try.
 */
export const linkOtps = pgTable("link_otps", {
  messageId: text("message_id")
    .primaryKey()
    .references(() => messages.id),
  tenantId: text("tenant_id").notNull(),
  transferId: text("transfer_id").notNull(),
  codeHash: text("code_hash").notNull(),
  failures: integer("failures").notNull().default(0),
  expiresAt: moment("expires_at").notNull(),
  createdAt: moment("created_at").notNull(),
});

/**
 * Per-sender send pacing shared by every instance (GCRA): the theoretical arrival time of the
 * next send. A row per provider and channel that has a rate limit.
 */
export const sendThrottle = pgTable("send_throttle", {
  key: text("key").primaryKey(),
  nextSlotAt: moment("next_slot_at").notNull(),
});

export const templates = pgTable(
  "templates",
  {
    provider: text("provider").notNull(),
    name: text("name").notNull(),
    status: text("status").$type<"APPROVED" | "REJECTED">().notNull(),
    comment: text("comment"),
    occurredAt: moment("occurred_at").notNull(),
    raw: jsonb("raw").notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.name] })],
);

/**
 * Append-only: who did what, when, from where. Each tenant's rows form a hash chain (`seq`,
 * `prev_hash`, `hash`; see src/domain/audit.ts), so an edited, removed or reordered row shows.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    tenantId: text("tenant_id").notNull(),
    /** Its place in the tenant's chain: 1, 2, 3… */
    seq: bigint("seq", { mode: "number" }).notNull(),
    /** The previous row's hash (64 zeros for the first). */
    prevHash: text("prev_hash").notNull(),
    /** Hex SHA-256 over `prev_hash` and the row's canonical content. */
    hash: text("hash").notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    transferId: text("transfer_id"),
    ip: text("ip"),
    client: text("client"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    at: moment("at").notNull().defaultNow(),
  },
  (t) => [index("audit_log_tenant_at").on(t.tenantId, t.at), uniqueIndex("audit_log_tenant_seq").on(t.tenantId, t.seq), index("audit_log_tenant_transfer").on(t.tenantId, t.transferId)],
);

/**
 * Single-use webhook tokens already spent (Mailgun's signature token), shared by every instance
 * and kept across restarts until the sender's timestamp window would refuse them anyway.
 */
export const webhookReplayTokens = pgTable(
  "webhook_replay_tokens",
  {
    provider: text("provider").notNull(),
    token: text("token").notNull(),
    seenAt: moment("seen_at").notNull(),
    expiresAt: moment("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.token] }), index("webhook_replay_tokens_expires").on(t.expiresAt)],
);

/**
 * A tenant's own webhook door: a provider account whose deliveries reach
 * `/webhooks/<provider>/<id>`. Secrets are sealed (SecretBox); during a rotation the previous
 * ones keep verifying until `previous_valid_until`.
 */
export const webhookSources = pgTable(
  "webhook_sources",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    provider: text("provider").notNull(),
    name: text("name"),
    enabled: boolean("enabled").notNull().default(true),
    sealedSecrets: text("sealed_secrets").notNull(),
    previousSealedSecrets: text("previous_sealed_secrets"),
    previousValidUntil: moment("previous_valid_until"),
    createdAt: moment("created_at").notNull().defaultNow(),
    secretsRotatedAt: moment("secrets_rotated_at"),
  },
  (t) => [index("webhook_sources_tenant_created").on(t.tenantId, t.createdAt)],
);

/**
 * Every delivery that reached a webhook door, accepted, duplicate or refused, with its raw body,
 * for WEBHOOK_LOG_RETENTION_DAYS. An accepted one is written in the same statement as its events;
 * a refused one afterwards, best effort. The id is a UUIDv7 (its first 48 bits the receipt time):
 * the log pages and expires along its primary key.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey(),
    /** Null for a server-wide door (configured by environment): no tenant sees it. */
    tenantId: text("tenant_id"),
    sourceId: text("source_id"),
    provider: text("provider").notNull(),
    receivedAt: moment("received_at").notNull(),
    outcome: text("outcome").$type<WebhookDeliveryOutcome>().notNull(),
    statusCode: integer("status_code").notNull(),
    reason: text("reason"),
    eventCount: integer("event_count").notNull(),
    body: bytes("body").notNull(),
    /** What normalizing it reads besides the body, for a replay. */
    request: jsonb("request").$type<LoggedRequest>().notNull(),
  },
  (t) => [
    // Server-wide doors' deliveries (no tenant) touch neither index.
    index("webhook_deliveries_tenant_id").on(t.tenantId, t.id).where(sql`tenant_id IS NOT NULL`),
    index("webhook_deliveries_source_id").on(t.sourceId, t.id).where(sql`source_id IS NOT NULL`),
  ],
);
