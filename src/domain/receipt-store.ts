import { and, eq, isNull, type SQL, sql } from "drizzle-orm";
import type { Queryable, Transaction } from "../db/client.js";
import { messages, receiptEvents, transfers } from "../db/schema.js";
import type {
  Channel,
  MessageRecord,
  NormalizedEvent,
  OwnEventSource,
  ReceiptEventRecord,
  ReceiptEventType,
  TransferRecord,
  TransferUpdate,
  TransferView,
} from "./model.js";
import { fallbackAfter } from "./delivery-policy.js";
import { deriveTransferStatus, nextMessageStatus } from "./status.js";
import { suppressFromEvents } from "./suppression.service.js";

/** A normalized event and the door it came through. */
export interface IncomingEvent extends NormalizedEvent {
  source: string;
}

/**
 * An event Ackline records itself about one of its messages (queued, sent, failed, revoked,
 * suppressed, unsubscribed): its raw payload is what Ackline knew, and by default its key is
 * `ackline:<message id>:<event>`, so recording it twice stores it once.
 */
export function ownMessageEvent(
  message: { id: string; transferId: string; channel: Channel; provider: string },
  event: ReceiptEventType,
  details: { occurredAt: Date; metadata: Record<string, unknown>; dedupeKey?: string; source?: OwnEventSource },
): IncomingEvent {
  return {
    event,
    occurredAt: details.occurredAt,
    provider: message.provider,
    source: details.source ?? "ackline",
    channel: message.channel,
    correlation: { messageId: message.id, transferId: message.transferId },
    dedupeKey: details.dedupeKey ?? `ackline:${message.id}:${event.toLowerCase()}`,
    metadata: details.metadata,
    raw: { message_id: message.id, event: event.toLowerCase(), ...details.metadata },
  };
}

export interface StoreOutcome {
  /** False for a duplicate: it was acknowledged before and changes nothing now. */
  stored: boolean;
  /** False when no message or transfer could be found yet (kept unmatched). */
  matched: boolean;
}

export interface StoreResult {
  outcomes: StoreOutcome[];
  /** One per stored, matched event: publish these after commit. */
  updates: TransferUpdate[];
}

type EventRow = typeof receiptEvents.$inferSelect;
type TransferRow = typeof transfers.$inferSelect;
type MessageRow = typeof messages.$inferSelect;

function unique<T>(values: Iterable<T | undefined | null>): T[] {
  return [...new Set([...values].filter((value): value is T => value !== undefined && value !== null))];
}

/*
 * The ingest path's statements have fixed text with one array parameter per column, so each is
 * prepared once and reused whatever the batch size (a list of N placeholders would be rebuilt and
 * re-prepared for every batch). Dates cross as ISO text: drizzle leaves timestamp parsing off.
 */
const textArray = (values: ReadonlyArray<string | null>): SQL => sql`${sql.param(values)}::text[]`;
const timestamp = (date: Date): SQL => sql`${sql.param(date.toISOString())}::timestamptz`;

async function selectRows<T>(db: Queryable, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

export function toEventRecord(row: EventRow): ReceiptEventRecord {
  return {
    id: String(row.id),
    tenantId: row.tenantId,
    transferId: row.transferId,
    messageId: row.messageId,
    channel: row.channel,
    event: row.event,
    occurredAt: row.occurredAt,
    receivedAt: row.receivedAt,
    provider: row.provider,
    source: row.source,
    carrier: row.carrier,
    region: row.region,
    metadata: row.metadata,
  };
}

const CHANNEL_ORDER: Record<Channel, number> = { RCS: 0, SMS: 1, EMAIL: 2 };

export function toView(transfer: TransferRecord, transferMessages: MessageRecord[], now = new Date()): TransferView {
  const ordered = [...transferMessages].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || CHANNEL_ORDER[a.channel] - CHANNEL_ORDER[b.channel],
  );
  return { ...transfer, status: deriveTransferStatus(transfer, ordered, now), messages: ordered };
}

/**
 * Serializes everyone who matches or attaches events by a provider message id: a receipt may
 * outrun the send API's answer, and without this the receipt and the answer could each commit
 * without seeing the other, leaving the event unmatched forever. Taken in a fixed order, before
 * any row lock, so two batches never deadlock.
 */
async function lockProviderMessageIds(tx: Transaction, providerMessageIds: string[]): Promise<void> {
  if (providerMessageIds.length === 0) return;
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtext(x) AS k FROM unnest(${textArray(providerMessageIds)}) AS x ORDER BY k) AS keys`,
  );
}

interface LockTargets {
  providerMessageIds: string[];
  messageIds: string[];
  transferIds: string[];
  /** Inbound phones: each locks its latest open transfer. */
  phones: string[];
}

/**
 * Locks every transfer the events may belong to, in id order. Transfer rows are the
 * serialization point for every status change of a transfer and its messages. A message's
 * transfer never changes and its provider id changes only under the advisory lock held here,
 * so the subqueries cannot go stale while the locks are awaited.
 */
async function lockTransfers(tx: Transaction, targets: LockTargets, now: Date): Promise<TransferRow[]> {
  if (Object.values(targets).every((list: string[]) => list.length === 0)) return [];
  return tx
    .select()
    .from(transfers)
    .where(
      // One IN over a UNION ALL, so each branch uses its index (ORed subqueries scan every transfer).
      sql`${transfers.id} IN (
        SELECT transfer_id FROM messages WHERE provider_message_id = ANY(${textArray(targets.providerMessageIds)})
        UNION ALL SELECT transfer_id FROM messages WHERE id = ANY(${textArray(targets.messageIds)})
        UNION ALL SELECT unnest(${textArray(targets.transferIds)})
        UNION ALL (SELECT DISTINCT ON (recipient_phone) id FROM transfers
          WHERE recipient_phone = ANY(${textArray(targets.phones)}) AND revoked_at IS NULL AND expires_at > ${timestamp(now)}
          ORDER BY recipient_phone, created_at DESC))`,
    )
    .orderBy(transfers.id)
    .for("update");
}

function isOpen(transfer: TransferRow, now: Date): boolean {
  return !transfer.revokedAt && transfer.expiresAt.getTime() > now.getTime();
}

async function messagesOf(tx: Transaction, transferIds: string[]): Promise<MessageRow[]> {
  if (transferIds.length === 0) return [];
  return tx.select().from(messages).where(sql`${messages.transferId} = ANY(${textArray(transferIds)})`);
}

/** One statement per table whatever the number of rows: `UPDATE … FROM unnest(ids, statuses, …)`. */
async function updateTransferStatuses(tx: Transaction, changes: Map<string, string>, now: Date): Promise<void> {
  if (changes.size === 0) return;
  await tx.execute(
    sql`UPDATE transfers AS target SET status = changed.status, updated_at = ${timestamp(now)}
        FROM unnest(${textArray([...changes.keys()])}, ${textArray([...changes.values()])}) AS changed(id, status)
        WHERE target.id = changed.id`,
  );
}

/** Messages carry their fallback timer along with their status. */
async function updateMessages(tx: Transaction, changed: MessageRow[], now: Date): Promise<void> {
  if (changed.length === 0) return;
  await tx.execute(
    sql`UPDATE messages AS target SET status = changed.status, fallback_at = changed.fallback_at, updated_at = ${timestamp(now)}
        FROM unnest(${textArray(changed.map((message) => message.id))}, ${textArray(changed.map((message) => message.status))},
          ${textArray(changed.map((message) => message.fallbackAt?.toISOString() ?? null))}::timestamptz[]) AS changed(id, status, fallback_at)
        WHERE target.id = changed.id`,
  );
}

/**
 * Folds freshly stored events into their messages' statuses, re-derives each affected transfer,
 * writes what changed, and returns one update per event for subscribers. The caller holds the
 * transfer locks; `transferMessages` are all messages of those transfers.
 */
async function applyStoredEvents(
  tx: Transaction,
  lockedTransfers: TransferRow[],
  transferMessages: MessageRow[],
  storedEvents: EventRow[],
  now: Date,
): Promise<TransferUpdate[]> {
  const messageById = new Map(transferMessages.map((message) => [message.id, { ...message }]));
  const inOrder = [...storedEvents].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || a.id - b.id);
  for (const event of inOrder) {
    const message = event.messageId ? messageById.get(event.messageId) : undefined;
    if (!message) continue;
    message.status = nextMessageStatus(message.status, event.event, message.channel);
    message.fallbackAt = fallbackAfter(message, now);
  }
  const changedMessages = transferMessages.map((original) => messageById.get(original.id)!).filter((message, index) => message.status !== transferMessages[index]!.status);
  await updateMessages(tx, changedMessages, now);

  const views = new Map<string, TransferView>();
  const changedTransfers = new Map<string, string>();
  for (const transfer of lockedTransfers) {
    const own = [...messageById.values()].filter((message) => message.transferId === transfer.id);
    const view = toView(transfer, own, now);
    views.set(transfer.id, view);
    if (view.status !== transfer.status) changedTransfers.set(transfer.id, view.status);
  }
  await updateTransferStatuses(tx, changedTransfers, now);

  // In provider-time order, as they were applied: subscribers hear them as they happened.
  return inOrder
    .filter((event) => event.transferId && views.has(event.transferId))
    .map((event) => ({ transfer: views.get(event.transferId!)!, event: toEventRecord(event) }));
}

/**
 * Stores a batch of events inside the caller's transaction: correlates each to its message or
 * transfer, inserts it unless its deduplication key is known, and applies the new ones.
 */
export async function storeEvents(tx: Transaction, events: IncomingEvent[], now = new Date()): Promise<StoreResult> {
  const correlations = events.map((event) => event.correlation);
  const providerMessageIds = unique(correlations.map((c) => c.providerMessageId));
  await lockProviderMessageIds(tx, providerMessageIds);
  const lockedTransfers = await lockTransfers(
    tx,
    {
      providerMessageIds,
      messageIds: unique(correlations.map((c) => c.messageId)),
      transferIds: unique(correlations.map((c) => (c.messageId ? undefined : c.transferId))),
      phones: unique(correlations.map((c) => c.phone)),
    },
    now,
  );
  const transferById = new Map(lockedTransfers.map((transfer) => [transfer.id, transfer]));
  const transferMessages = await messagesOf(tx, [...transferById.keys()]);
  const messageById = new Map(transferMessages.map((message) => [message.id, message]));
  const messageByProviderId = new Map(transferMessages.map((message) => [message.providerMessageId, message]));
  const latestOpenByPhone = new Map<string | null, TransferRow>();
  for (const transfer of lockedTransfers) {
    const latest = latestOpenByPhone.get(transfer.recipientPhone);
    if (isOpen(transfer, now) && (!latest || transfer.createdAt > latest.createdAt)) latestOpenByPhone.set(transfer.recipientPhone, transfer);
  }

  /** Precedence: Ackline's own message id (with its transfer), the provider's id, a postback's transfer, the phone. */
  const targets = correlations.map((c): { transfer: TransferRow; message?: MessageRow } | undefined => {
    const own = c.messageId ? messageById.get(c.messageId) : undefined;
    const byProvider = c.providerMessageId ? messageByProviderId.get(c.providerMessageId) : undefined;
    const message = own && (!c.transferId || own.transferId === c.transferId) ? own : byProvider;
    if (message) return { transfer: transferById.get(message.transferId)!, message };
    const transfer = (c.transferId && !c.messageId ? transferById.get(c.transferId) : undefined) ?? (c.phone ? latestOpenByPhone.get(c.phone) : undefined);
    return transfer ? { transfer } : undefined;
  });

  const firstByKey = new Map<string, number>();
  events.forEach((event, index) => {
    if (!firstByKey.has(event.dedupeKey)) firstByKey.set(event.dedupeKey, index);
  });
  type NewEventRow = Omit<EventRow, "id">;
  const rows: NewEventRow[] = [...firstByKey.values()].map((index) => {
    const event = events[index]!;
    const { transfer, message } = targets[index] ?? {};
    return {
      tenantId: transfer?.tenantId ?? null,
      transferId: transfer?.id ?? null,
      messageId: message?.id ?? null,
      providerMessageId: event.correlation.providerMessageId ?? null,
      phone: event.correlation.phone ?? null,
      channel: event.channel ?? message?.channel ?? null,
      event: event.event,
      occurredAt: event.occurredAt,
      receivedAt: now,
      provider: event.provider ?? message?.provider ?? event.source,
      source: event.source,
      carrier: event.carrier ?? null,
      region: event.region ?? null,
      metadata: event.metadata,
      raw: event.raw ?? null,
      dedupeKey: event.dedupeKey,
    };
  });
  const column = <K extends keyof NewEventRow>(key: K, text: (value: NewEventRow[K]) => string | null = (value) => value as string | null) =>
    textArray(rows.map((row) => text(row[key])));
  const json = (value: unknown) => JSON.stringify(value);
  const inserted = await selectRows<{ id: string | number; dedupe_key: string }>(
    tx,
    sql`INSERT INTO receipt_events (tenant_id, transfer_id, message_id, provider_message_id, phone, channel, event, occurred_at, received_at,
          provider, source, carrier, region, metadata, raw, dedupe_key)
        SELECT tenant_id, transfer_id, message_id, provider_message_id, phone, channel, event, occurred_at::timestamptz, ${timestamp(now)},
          provider, source, carrier, region, metadata::jsonb, raw::jsonb, dedupe_key
        FROM unnest(${column("tenantId")}, ${column("transferId")}, ${column("messageId")}, ${column("providerMessageId")}, ${column("phone")},
          ${column("channel")}, ${column("event")}, ${column("occurredAt", (value) => value.toISOString())}, ${column("provider")}, ${column("source")},
          ${column("carrier")}, ${column("region")}, ${column("metadata", json)}, ${column("raw", json)}, ${column("dedupeKey")})
          AS e(tenant_id, transfer_id, message_id, provider_message_id, phone, channel, event, occurred_at, provider, source, carrier, region, metadata, raw, dedupe_key)
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id, dedupe_key`,
  );
  const idByKey = new Map(inserted.map((row) => [row.dedupe_key, Number(row.id)]));
  const storedRows = rows.filter((row) => idByKey.has(row.dedupeKey)).map((row) => ({ ...row, id: idByKey.get(row.dedupeKey)! }));

  const outcomes = events.map((event, index) => ({
    stored: firstByKey.get(event.dedupeKey) === index && idByKey.has(event.dedupeKey),
    matched: targets[index] !== undefined,
  }));
  const updates = await applyStoredEvents(tx, lockedTransfers, transferMessages, storedRows, now);
  await suppressFromEvents(tx, storedRows, transferById, now);
  return { outcomes, updates };
}

/**
 * Records the provider's id for a message once its send API accepted it, and attaches (and
 * applies, suppressions included) any events that arrived for that id before the answer did.
 */
export async function recordProviderMessageId(
  tx: Transaction,
  message: Pick<MessageRecord, "id" | "transferId">,
  providerMessageId: string,
  now = new Date(),
): Promise<TransferUpdate[]> {
  await lockProviderMessageIds(tx, [providerMessageId]);
  const lockedTransfers = await lockTransfers(tx, { providerMessageIds: [], messageIds: [], transferIds: [message.transferId], phones: [] }, now);
  const transfer = lockedTransfers[0];
  if (!transfer) return [];
  await tx
    .update(messages)
    .set({ providerMessageId, dispatchState: "done", leaseUntil: null, lastError: null, updatedAt: now })
    .where(eq(messages.id, message.id));
  const transferMessages = await messagesOf(tx, [transfer.id]);
  const own = transferMessages.find((candidate) => candidate.id === message.id);
  const attached = await tx
    .update(receiptEvents)
    .set({
      tenantId: transfer.tenantId,
      transferId: transfer.id,
      messageId: message.id,
      channel: sql`coalesce(${receiptEvents.channel}, ${own?.channel})`,
      provider: sql`CASE WHEN ${receiptEvents.provider} = ${receiptEvents.source} THEN ${own?.provider} ELSE ${receiptEvents.provider} END`,
    })
    .where(and(eq(receiptEvents.providerMessageId, providerMessageId), isNull(receiptEvents.messageId)))
    .returning();
  const updates = await applyStoredEvents(tx, lockedTransfers, transferMessages, attached, now);
  // An opt-out that outran the send's answer suppresses the address now that it is matched.
  await suppressFromEvents(tx, attached, new Map([[transfer.id, transfer]]), now);
  return updates;
}

/** Loads transfers as they now stand, with their messages (no locks). */
export async function loadTransferViews(db: Queryable, ids: string[], now = new Date()): Promise<TransferView[]> {
  if (ids.length === 0) return [];
  const rows = await db.select().from(transfers).where(sql`${transfers.id} = ANY(${textArray(ids)})`);
  const rowsMessages = await db.select().from(messages).where(sql`${messages.transferId} = ANY(${textArray(ids)})`);
  return rows.map((row) => toView(row, rowsMessages.filter((message) => message.transferId === row.id), now));
}
