import { sql } from "drizzle-orm";
import type { Transaction } from "../db/client.js";
import { messages, type receiptEvents, transfers } from "../db/schema.js";
import { selectRows, textArray, timestamp } from "../db/sql.js";
import { fallbackAfter } from "./delivery-policy.js";
import { factsChanged, foldFacts } from "./message-facts.js";
import { projectMessageStats, statsTouchedBy } from "./message-stats.js";
import { liveEventCursor, SETTLED_BELOW } from "./receipt-event-cursor.js";
import type { Channel, Correlation, MessageRecord, ReceiptEventRecord, TransferRecord, TransferUpdate, TransferView } from "./model.js";
import { deriveTransferStatus, nextMessageStatus } from "./status.js";
import { suppressFromEvents } from "./suppression.service.js";

/*
 * The fold: events find their message and transfer (correlation, under the locks that make the
 * answer stable), then move statuses through the pure reducer in `status.ts`. Used by the
 * receipt applier for appended webhook events, and inline by Ackline's own decisions.
 */

export type EventRow = typeof receiptEvents.$inferSelect;
/** What folding reads of an event: everything but its raw payload, which only history shows, and its place in history. */
export type FoldableEvent = Omit<EventRow, "raw" | "visibleXid">;
export type TransferRow = typeof transfers.$inferSelect;
export type MessageRow = typeof messages.$inferSelect;

export function unique<T>(values: Iterable<T | undefined | null>): T[] {
  return [...new Set([...values].filter((value): value is T => value !== undefined && value !== null))];
}

const CHANNEL_ORDER: Record<Channel, number> = { RCS: 0, SMS: 1, EMAIL: 2 };

export function toView(transfer: TransferRecord & { eventSeq: number }, transferMessages: MessageRecord[], now = new Date()): TransferView {
  const ordered = [...transferMessages].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || CHANNEL_ORDER[a.channel] - CHANNEL_ORDER[b.channel],
  );
  return { ...transfer, status: deriveTransferStatus(transfer, ordered, now), messages: ordered };
}

/**
 * Serializes everyone who matches or attaches events by a provider message id: a receipt may
 * outrun the send API's answer, and without this the receipt and the answer could each commit
 * without seeing the other, leaving the event unmatched forever. Taken in a fixed order, before
 * any row lock, so two transactions never deadlock.
 */
export async function lockProviderMessageIds(tx: Transaction, providerMessageIds: string[]): Promise<void> {
  if (providerMessageIds.length === 0) return;
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtext(x) AS k FROM unnest(${textArray(providerMessageIds)}) AS x ORDER BY k) AS keys`,
  );
}

interface LockTargets {
  providerMessageIds: string[];
  messageIds: string[];
  transferIds: string[];
  /** Inbound phones: each locks its latest open transfer of every tenant. */
  phones: string[];
}

/**
 * Locks every transfer the events may belong to, in id order. Transfer rows are the
 * serialization point for every status change of a transfer and its messages. A message's
 * transfer never changes and its provider id changes only under the advisory lock held here,
 * so the subqueries cannot go stale while the locks are awaited.
 */
export async function lockTransfers(tx: Transaction, targets: LockTargets, now: Date): Promise<TransferRow[]> {
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
        UNION ALL (SELECT DISTINCT ON (recipient_phone, tenant_id) id FROM transfers
          WHERE recipient_phone = ANY(${textArray(targets.phones)}) AND revoked_at IS NULL AND expires_at > ${timestamp(now)}
          ORDER BY recipient_phone, tenant_id, created_at DESC))`,
    )
    .orderBy(transfers.id)
    .for("update");
}

export async function messagesOf(tx: Transaction, transferIds: string[]): Promise<MessageRow[]> {
  if (transferIds.length === 0) return [];
  return tx.select().from(messages).where(sql`${messages.transferId} = ANY(${textArray(transferIds)})`);
}

function isOpen(transfer: TransferRow, now: Date): boolean {
  return !transfer.revokedAt && transfer.expiresAt.getTime() > now.getTime();
}

export type Target = { transfer: TransferRow; message?: MessageRow } | undefined;

/** The transfers a batch of events may touch, locked, with all their messages, and where each event points. */
export interface Correlated {
  lockedTransfers: TransferRow[];
  transferMessages: MessageRow[];
  /** One per correlation given; undefined: no message or transfer known yet (kept unmatched). */
  targets: Target[];
}

/**
 * Finds each event's message or transfer, holding the locks that let the caller fold them.
 * Precedence: Ackline's own message id (with its transfer), the provider's id, a postback's
 * transfer, the phone.
 */
export async function correlate(tx: Transaction, correlations: Correlation[], now: Date): Promise<Correlated> {
  const providerMessageIds = unique(correlations.map((c) => c.providerMessageId));
  // Sent together (one round trip): PostgreSQL still runs them in order, so the advisory locks are
  // held before the transfer rows are read.
  const [, lockedTransfers] = await Promise.all([
    lockProviderMessageIds(tx, providerMessageIds),
    lockTransfers(
      tx,
      {
        providerMessageIds,
        messageIds: unique(correlations.map((c) => c.messageId)),
        transferIds: unique(correlations.map((c) => (c.messageId ? undefined : c.transferId))),
        phones: unique(correlations.map((c) => c.phone)),
      },
      now,
    ),
  ]);
  const transferById = new Map(lockedTransfers.map((transfer) => [transfer.id, transfer]));
  const transferMessages = await messagesOf(tx, [...transferById.keys()]);
  const messageById = new Map(transferMessages.map((message) => [message.id, message]));
  const messageByProviderId = new Map(transferMessages.map((message) => [message.providerMessageId, message]));
  // The latest open transfer to a phone, of any tenant (key: phone) and of each tenant (key: tenant, phone).
  const latestOpen = new Map<string, TransferRow>();
  const phoneKey = (phone: string, tenantId?: string) => (tenantId ? `${tenantId}\u0000${phone}` : phone);
  for (const transfer of lockedTransfers) {
    if (!transfer.recipientPhone || !isOpen(transfer, now)) continue;
    for (const key of [phoneKey(transfer.recipientPhone), phoneKey(transfer.recipientPhone, transfer.tenantId)]) {
      const latest = latestOpen.get(key);
      if (!latest || transfer.createdAt > latest.createdAt) latestOpen.set(key, transfer);
    }
  }

  const targets = correlations.map((c): Target => {
    const own = c.messageId ? messageById.get(c.messageId) : undefined;
    const byProvider = c.providerMessageId ? messageByProviderId.get(c.providerMessageId) : undefined;
    const message = own && (!c.transferId || own.transferId === c.transferId) ? own : byProvider;
    const transfer = message
      ? transferById.get(message.transferId)
      : ((c.transferId && !c.messageId ? transferById.get(c.transferId) : undefined) ?? (c.phone ? latestOpen.get(phoneKey(c.phone, c.tenantId)) : undefined));
    const target: Target = transfer && { transfer, message };
    // An event through a tenant's own source never touches another tenant's transfer: it stays unmatched.
    return c.tenantId && target?.transfer.tenantId !== c.tenantId ? undefined : target;
  });
  return { lockedTransfers, transferMessages, targets };
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

/** Messages carry their fallback timer and the facts statistics read (message-facts.ts) along with their status. */
async function updateMessages(tx: Transaction, changed: MessageRow[], now: Date): Promise<void> {
  if (changed.length === 0) return;
  const text = (pick: (message: MessageRow) => string | null) => textArray(changed.map(pick));
  const time = (pick: (message: MessageRow) => Date | null) => sql`${textArray(changed.map((message) => pick(message)?.toISOString() ?? null))}::timestamptz[]`;
  await tx.execute(
    sql`UPDATE messages AS target SET status = changed.status, fallback_at = changed.fallback_at, carrier = changed.carrier, region = changed.region,
          sent_at = changed.sent_at, delivered_at = changed.delivered_at, read_at = changed.read_at, failed_at = changed.failed_at, updated_at = ${timestamp(now)}
        FROM unnest(${text((message) => message.id)}, ${text((message) => message.status)}, ${time((message) => message.fallbackAt)},
          ${text((message) => message.carrier)}, ${text((message) => message.region)}, ${time((message) => message.sentAt)},
          ${time((message) => message.deliveredAt)}, ${time((message) => message.readAt)}, ${time((message) => message.failedAt)})
          AS changed(id, status, fallback_at, carrier, region, sent_at, delivered_at, read_at, failed_at)
        WHERE target.id = changed.id`,
  );
}

export function toEventRecord(row: FoldableEvent, cursor: string): ReceiptEventRecord {
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
    seq: row.seq,
    cursor,
  };
}

/** Where a subscriber of the events this fold publishes resumes the tenant's history from. */
async function liveCursor(tx: Transaction): Promise<string> {
  const [row] = await selectRows<{ settled: string | number }>(tx, sql`SELECT (${SETTLED_BELOW}) AS settled`);
  return liveEventCursor(Number(row!.settled));
}

/**
 * Numbers the events each transfer gains, after the ones it already has, in the order given (the
 * caller holds the transfers' locks, so numbers never repeat and never skip): the cursor a
 * subscriber resumes after. One statement, counted in SQL, so an earlier fold in the same
 * transaction is seen. Returns each event's number by id.
 */
async function sequenceEvents(tx: Transaction, events: FoldableEvent[]): Promise<Map<number, number>> {
  if (events.length === 0) return new Map();
  const counts = new Map<string, number>();
  // Each event's place among its transfer's events in this fold: 1, 2, 3…
  const places = events.map((event) => {
    const place = (counts.get(event.transferId!) ?? 0) + 1;
    counts.set(event.transferId!, place);
    return String(place);
  });
  const numbered = await selectRows<{ id: string | number; seq: string | number }>(
    tx,
    sql`WITH gained AS (
          UPDATE transfers AS target SET event_seq = target.event_seq + gained.count
          FROM unnest(${textArray([...counts.keys()])}, ${textArray([...counts.values()].map(String))}::bigint[]) AS gained(id, count)
          WHERE target.id = gained.id
          RETURNING target.id, target.event_seq - gained.count AS before)
        UPDATE receipt_events AS target SET seq = gained.before + placed.place
        FROM unnest(${textArray(events.map((event) => String(event.id)))}::bigint[], ${textArray(events.map((event) => event.transferId))},
          ${textArray(places)}::bigint[]) AS placed(id, transfer_id, place)
        JOIN gained ON gained.id = placed.transfer_id
        WHERE target.id = placed.id
        RETURNING target.id, target.seq`,
  );
  return new Map(numbered.map((row) => [Number(row.id), Number(row.seq)]));
}

/**
 * Folds newly matched events into their messages' statuses in provider-time order, re-derives
 * each locked transfer, writes what changed, suppresses addresses the events opt out, and returns
 * one update per event for subscribers (to publish after commit). The caller holds the transfer
 * locks; `transferMessages` are all messages of those transfers.
 */
export async function foldEvents(
  tx: Transaction,
  lockedTransfers: TransferRow[],
  transferMessages: MessageRow[],
  events: FoldableEvent[],
  now: Date,
): Promise<TransferUpdate[]> {
  const messageById = new Map(transferMessages.map((message) => [message.id, { ...message }]));
  const inOrder = [...events].sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || a.id - b.id);
  for (const event of inOrder) {
    const message = event.messageId ? messageById.get(event.messageId) : undefined;
    if (!message) continue;
    message.status = nextMessageStatus(message.status, event.event, message.channel);
    message.fallbackAt = fallbackAfter(message, now);
    foldFacts(message, event);
  }
  const changedMessages = transferMessages
    .map((original) => messageById.get(original.id)!)
    .filter((message, index) => message.status !== transferMessages[index]!.status || factsChanged(transferMessages[index]!, message));

  const messagesByTransfer = new Map<string, MessageRow[]>();
  for (const message of messageById.values()) {
    const own = messagesByTransfer.get(message.transferId);
    if (own) own.push(message);
    else messagesByTransfer.set(message.transferId, [message]);
  }
  const views = new Map<string, TransferView>();
  const changedTransfers = new Map<string, string>();
  for (const transfer of lockedTransfers) {
    const view = toView(transfer, messagesByTransfer.get(transfer.id) ?? [], now);
    views.set(transfer.id, view);
    if (view.status !== transfer.status) changedTransfers.set(transfer.id, view.status);
  }
  // In provider-time order, as they were applied: subscribers hear them as they happened.
  const published = inOrder.filter((event) => event.transferId && views.has(event.transferId));
  // Independent writes, pipelined on the transaction's connection: one round trip for all five.
  const transferById = new Map(lockedTransfers.map((transfer) => [transfer.id, transfer]));
  const [, , , , seqs, cursor] = await Promise.all([
    updateMessages(tx, changedMessages, now),
    projectMessageStats(tx, statsTouchedBy(events, messageById, transferById)),
    updateTransferStatuses(tx, changedTransfers, now),
    suppressFromEvents(tx, events, transferById, now),
    sequenceEvents(tx, published),
    published.length > 0 ? liveCursor(tx) : undefined,
  ]);
  for (const event of published) views.get(event.transferId!)!.eventSeq = Math.max(views.get(event.transferId!)!.eventSeq, seqs.get(event.id)!);
  return published.map((event) => ({ transfer: views.get(event.transferId!)!, event: toEventRecord({ ...event, seq: seqs.get(event.id) ?? null }, cursor!) }));
}
