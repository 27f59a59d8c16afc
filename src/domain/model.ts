/** Ackline's vocabulary: the enums every edge (GraphQL, webhooks, adapters) speaks. */
import type { TransferSecurity } from "./transfer-security.js";

export const CHANNELS = ["RCS", "SMS", "EMAIL"] as const;
export type Channel = (typeof CHANNELS)[number];

export const TRANSFER_STATUSES = [
  "QUEUED", "SENT", "DELIVERED", "READ", "DOWNLOADED", "FAILED", "EXPIRED", "REVOKED",
] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];

export const MESSAGE_STATUSES = ["QUEUED", "SENT", "DELIVERED", "READ", "FAILED", "REVOKED", "SUPPRESSED"] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const DELIVERY_OUTCOMES = ["ACCEPTED", "RETRY", "FAILED", "SUPPRESSED"] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

export type AddressKind = "phone" | "email";
export const SUPPRESSION_REASONS = ["OPT_OUT", "COMPLAINT", "BOUNCE", "MANUAL"] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface SuppressionRecord {
  kind: AddressKind;
  address: string;
  reason: SuppressionReason;
  note: string | null;
  eventId: number | null;
  createdBy: string;
  createdAt: Date;
}

/** A phone carries RCS and SMS; an email address carries email. */
export function addressKindOf(channel: Channel): AddressKind {
  return channel === "EMAIL" ? "email" : "phone";
}

export const RECEIPT_EVENT_TYPES = [
  "QUEUED", "SENT", "DELIVERED", "READ", "FAILED", "REVOKED", "ACTION", "REPLY",
  "OPT_OUT", "COMPLAINT", "TYPING", "DOWNLOADED", "LINK_OPENED",
] as const;
export type ReceiptEventType = (typeof RECEIPT_EVENT_TYPES)[number];

/**
 * The sources of the events Ackline records itself, and what each covers. Every other event's
 * source is the webhook door it came through; the API documents both from the code.
 */
export const OWN_EVENT_SOURCES = {
  ackline: "its own decisions and sends: queued, fallbacks, failures, revocations, suppressions, email copies",
  api: "a download reported with recordDownload",
  gateway: "the recipient's link: opened (LINK_OPENED, history only) or downloaded through",
  unsubscribe: "an opt-out through an email's unsubscribe link",
} as const;
export type OwnEventSource = keyof typeof OWN_EVENT_SOURCES;

/** Where an event says it belongs; the ingest resolves it in this order of precedence. */
export interface Correlation {
  /** Ackline's own message id (canonical `standard` events), with its transfer. */
  messageId?: string;
  transferId?: string;
  /** The provider's message id, unique across Ackline. */
  providerMessageId?: string;
  /** Inbound text, files and locations attach to the latest open transfer to this phone. */
  phone?: string;
  /** Set when the event came through a tenant's own webhook source: it may touch only that tenant's transfers. */
  tenantId?: string;
}

/** One provider event after normalization, before it is stored. */
export interface NormalizedEvent {
  event: ReceiptEventType;
  occurredAt: Date;
  /** Set when the format names the provider; otherwise the matched message's provider, else the door. */
  provider?: string;
  channel?: Channel;
  correlation: Correlation;
  /** Unique across Ackline: a retried delivery of the same event yields the same key. */
  dedupeKey: string;
  carrier?: string;
  region?: string;
  metadata: Record<string, unknown>;
  raw: unknown;
}

export interface TemplateUpdate {
  provider: string;
  name: string;
  status: "APPROVED" | "REJECTED";
  comment?: string;
  occurredAt: Date;
  raw: unknown;
}

export interface MessageRecord {
  id: string;
  tenantId: string;
  transferId: string;
  channel: Channel;
  provider: string;
  providerMessageId: string | null;
  clientMessageId: string;
  status: MessageStatus;
  attempts: number;
  lastError: string | null;
  /** The message this one falls back from, and why. */
  fallbackOfMessageId: string | null;
  fallbackReason: string | null;
  /** When it falls back unless delivered first (null: no fallback pending). */
  fallbackAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeliveryAttemptRecord {
  messageId: string;
  attempt: number;
  at: Date;
  provider: string;
  outcome: DeliveryOutcome;
  code: number | null;
  error: string | null;
  retryAt: Date | null;
}

export interface TransferRecord {
  id: string;
  tenantId: string;
  senderName: string;
  /** Where the signed download receipt is emailed. */
  senderEmail: string | null;
  recipientPhone: string | null;
  recipientEmail: string | null;
  fileName: string;
  fileSizeBytes: number;
  description: string | null;
  expiresAt: Date;
  /** Its link TTL, download cap and OTP requirement (read through `securityOf`). */
  securityPolicy: Partial<TransferSecurity>;
  /** Hex SHA-256 of the file, as declared by the partner. */
  fileSha256: string | null;
  downloadCount: number;
  storageRegion: string | null;
  status: TransferStatus;
  revokedAt: Date | null;
  downloadedAt: Date | null;
  /** The signed receipt (compact JWS) of its first download. */
  downloadReceipt: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A transfer as it now stands, with its messages: what queries return and subscribers receive. */
export interface TransferView extends TransferRecord {
  messages: MessageRecord[];
  /** How many events have been folded into it: the sequence number of the last one (0: none yet). */
  eventSeq: number;
}

export interface ReceiptEventRecord {
  id: string;
  tenantId: string | null;
  transferId: string | null;
  messageId: string | null;
  channel: Channel | null;
  event: ReceiptEventType;
  occurredAt: Date;
  receivedAt: Date;
  provider: string;
  source: string;
  carrier: string | null;
  region: string | null;
  metadata: Record<string, unknown>;
  /** Its place among its transfer's events, given when folded (null while unmatched). */
  seq: number | null;  /** Its place in the tenant's history: `receiptEvents(after:)` resumes from it. */
  cursor: string;
}

/** A provider's answer to withdrawing a message it accepted (revokeTransfer asks where it can). */
export interface RevokeOutcome {
  revoked: boolean;
  code?: number;
  error?: string;
}

/** What `transferUpdated` streams: the transfer now, and the event that moved it (null for the first frame). */
export interface TransferUpdate {
  transfer: TransferView;
  event: ReceiptEventRecord | null;
}

export interface WebhookSourceRecord {
  id: string;
  tenantId: string;
  provider: string;
  name: string | null;
  enabled: boolean;
  createdAt: Date;
  secretsRotatedAt: Date | null;
}

/** How a webhook door answered a delivery: events stored, all of them known already, or refused. */
export const WEBHOOK_DELIVERY_OUTCOMES = ["ACCEPTED", "DUPLICATE", "REJECTED"] as const;
export type WebhookDeliveryOutcome = (typeof WEBHOOK_DELIVERY_OUTCOMES)[number];

/** What normalizing a delivery reads besides its body: the URL as called and the headers its door names (never a credential). */
export interface LoggedRequest {
  url: string;
  headers: Record<string, string>;
}

/** One delivery as the delivery log keeps it. */
export interface WebhookDeliveryRecord {
  id: string;
  /** Null for a server-wide door (configured by environment): no tenant sees it. */
  tenantId: string | null;
  sourceId: string | null;
  provider: string;
  receivedAt: Date;
  outcome: WebhookDeliveryOutcome;
  statusCode: number;
  reason: string | null;
  /** Canonical events the delivery normalized to (stored or duplicate); 0 for a refused one. */
  eventCount: number;
  body: Buffer;
  request: LoggedRequest;
}

/** A delivery as a door received it, before its answer is known. */
export type ReceivedDelivery = Omit<WebhookDeliveryRecord, "outcome" | "statusCode" | "reason" | "eventCount">;
