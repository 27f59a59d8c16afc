import { and, asc, desc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import type { Queryable, Transaction } from "../db/client.js";
import { messages, receiptEvents, transfers } from "../db/schema.js";
import type {
  Channel,
  MessageRecord,
  MessageStatus,
  NormalizedEvent,
  ReceiptEventRecord,
  TransferRecord,
  TransferStatus,
  TransferUpdate,
  TransferView,
} from "./model.js";
import { deriveTransferStatus, nextMessageStatus } from "./status.js";

/** A normalized event and the door it came through. */
export interface IncomingEvent extends NormalizedEvent {
  source: string;
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

function unique<T>(values: Iterable<T | undefined>): T[] {
  return [...new Set([...values].filter((value): value is T => value !== undefined))];
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
  const ids = sql.join(providerMessageIds.map((id) => sql`${id}`), sql`, `);
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtext(x) AS k FROM unnest(ARRAY[${ids}]::text[]) AS x ORDER BY k) AS keys`,
  );
}

/** Transfer rows are the serialization point for every status change of a transfer and its messages. */
async function lockTransfers(tx: Transaction, ids: string[]): Promise<TransferRow[]> {
  if (ids.length === 0) return [];
  return tx.select().from(transfers).where(inArray(transfers.id, ids)).orderBy(asc(transfers.id)).for("update");
}

async function latestOpenTransferByPhone(tx: Transaction, phone: string, now: Date): Promise<string | undefined> {
  const [row] = await tx
    .select({ id: transfers.id })
    .from(transfers)
    .where(and(eq(transfers.recipientPhone, phone), isNull(transfers.revokedAt), gt(transfers.expiresAt, now)))
    .orderBy(desc(transfers.createdAt))
    .limit(1);
  return row?.id;
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
  const changedMessages = new Map<MessageStatus, string[]>();
  const inOrder = [...storedEvents].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || a.id - b.id);
  const finalStatus = new Map<string, MessageStatus>();
  for (const event of inOrder) {
    const message = event.messageId ? messageById.get(event.messageId) : undefined;
    if (!message) continue;
    message.status = nextMessageStatus(message.status, event.event, message.channel);
    finalStatus.set(message.id, message.status);
  }
  for (const [id, status] of finalStatus) {
    if (transferMessages.find((message) => message.id === id)!.status === status) continue;
    changedMessages.set(status, [...(changedMessages.get(status) ?? []), id]);
  }
  for (const [status, ids] of changedMessages) {
    await tx.update(messages).set({ status, updatedAt: now }).where(inArray(messages.id, ids));
  }

  const views = new Map<string, TransferView>();
  const changedTransfers = new Map<TransferStatus, string[]>();
  for (const transfer of lockedTransfers) {
    const own = [...messageById.values()].filter((message) => message.transferId === transfer.id);
    const view = toView(transfer, own, now);
    views.set(transfer.id, view);
    if (view.status !== transfer.status) {
      changedTransfers.set(view.status, [...(changedTransfers.get(view.status) ?? []), transfer.id]);
    }
  }
  for (const [status, ids] of changedTransfers) {
    await tx.update(transfers).set({ status, updatedAt: now }).where(inArray(transfers.id, ids));
  }

  return storedEvents
    .filter((event) => event.transferId && views.has(event.transferId))
    .map((event) => ({ transfer: views.get(event.transferId!)!, event: toEventRecord(event) }));
}

/**
 * Stores a batch of events inside the caller's transaction: correlates each to its message or
 * transfer, inserts it unless its deduplication key is known, and applies the new ones.
 */
export async function storeEvents(tx: Transaction, events: IncomingEvent[], now = new Date()): Promise<StoreResult> {
  const providerMessageIds = unique(events.map((event) => event.correlation.providerMessageId));
  await lockProviderMessageIds(tx, providerMessageIds);

  const ownMessageIds = unique(events.map((event) => event.correlation.messageId));
  const known =
    providerMessageIds.length + ownMessageIds.length === 0
      ? []
      : await tx
          .select({ id: messages.id, transferId: messages.transferId, providerMessageId: messages.providerMessageId })
          .from(messages)
          .where(
            sql`${inArray(messages.providerMessageId, providerMessageIds)} OR ${inArray(messages.id, ownMessageIds)}`,
          );
  const byOwnId = new Map(known.map((message) => [message.id, message]));
  const byProviderId = new Map(known.map((message) => [message.providerMessageId, message]));

  const phoneTransfers = new Map<string, string | undefined>();
  for (const phone of unique(events.map((event) => event.correlation.phone))) {
    phoneTransfers.set(phone, await latestOpenTransferByPhone(tx, phone, now));
  }

  const targets = events.map(({ correlation: c }) => {
    const own = c.messageId ? byOwnId.get(c.messageId) : undefined;
    if (own && (!c.transferId || own.transferId === c.transferId)) return { transferId: own.transferId, messageId: own.id };
    const byProvider = c.providerMessageId ? byProviderId.get(c.providerMessageId) : undefined;
    if (byProvider) return { transferId: byProvider.transferId, messageId: byProvider.id };
    if (c.transferId && !c.messageId) return { transferId: c.transferId, messageId: undefined };
    const byPhone = c.phone ? phoneTransfers.get(c.phone) : undefined;
    return byPhone ? { transferId: byPhone, messageId: undefined } : undefined;
  });

  const lockedTransfers = await lockTransfers(tx, unique(targets.map((target) => target?.transferId)));
  const transferById = new Map(lockedTransfers.map((transfer) => [transfer.id, transfer]));
  const transferMessages =
    lockedTransfers.length === 0
      ? []
      : await tx.select().from(messages).where(inArray(messages.transferId, [...transferById.keys()]));
  const messageById = new Map(transferMessages.map((message) => [message.id, message]));

  const firstByKey = new Map<string, number>();
  events.forEach((event, index) => {
    if (!firstByKey.has(event.dedupeKey)) firstByKey.set(event.dedupeKey, index);
  });
  const rows = [...firstByKey.values()].map((index) => {
    const event = events[index]!;
    const target = targets[index];
    const transfer = target ? transferById.get(target.transferId) : undefined;
    const message = transfer && target?.messageId ? messageById.get(target.messageId) : undefined;
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
  const inserted = await tx.insert(receiptEvents).values(rows).onConflictDoNothing({ target: receiptEvents.dedupeKey }).returning();
  const insertedKeys = new Set(inserted.map((row) => row.dedupeKey));

  const outcomes = events.map((event, index) => ({
    stored: firstByKey.get(event.dedupeKey) === index && insertedKeys.has(event.dedupeKey),
    matched: Boolean(targets[index] && transferById.has(targets[index].transferId)),
  }));
  const updates = await applyStoredEvents(tx, lockedTransfers, transferMessages, inserted, now);
  return { outcomes, updates };
}

/**
 * Records the provider's id for a message once its send API accepted it, and attaches any events
 * that arrived for that id before the answer did.
 */
export async function recordProviderMessageId(
  tx: Transaction,
  message: Pick<MessageRecord, "id" | "transferId">,
  providerMessageId: string,
  now = new Date(),
): Promise<TransferUpdate[]> {
  await lockProviderMessageIds(tx, [providerMessageId]);
  const lockedTransfers = await lockTransfers(tx, [message.transferId]);
  const transfer = lockedTransfers[0];
  if (!transfer) return [];
  await tx
    .update(messages)
    .set({ providerMessageId, dispatchState: "done", leaseUntil: null, lastError: null, updatedAt: now })
    .where(eq(messages.id, message.id));
  const transferMessages = await tx.select().from(messages).where(eq(messages.transferId, transfer.id));
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
  return applyStoredEvents(tx, lockedTransfers, transferMessages, attached, now);
}

/** Loads transfers as they now stand, with their messages (no locks). */
export async function loadTransferViews(db: Queryable, ids: string[], now = new Date()): Promise<TransferView[]> {
  if (ids.length === 0) return [];
  const rows = await db.select().from(transfers).where(inArray(transfers.id, ids));
  const rowsMessages = await db.select().from(messages).where(inArray(messages.transferId, ids));
  return rows.map((row) => toView(row, rowsMessages.filter((message) => message.transferId === row.id), now));
}
