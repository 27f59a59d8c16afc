import { and, eq, isNull, not, sql } from "drizzle-orm";
import type { Queryable, Transaction } from "../db/client.js";
import { messages, receiptEvents, transfers } from "../db/schema.js";
import { selectRows, textArray, timestamp } from "../db/sql.js";
import type { Channel, NormalizedEvent, OwnEventSource, ReceiptEventType, ReceivedDelivery, TransferUpdate, TransferView } from "./model.js";
import { correlate, type EventRow, foldEvents, type FoldableEvent, lockProviderMessageIds, lockTransfers, messagesOf, type Target, toView, unique } from "./receipt-fold.js";

export { toEventRecord } from "./receipt-fold.js";

/** A normalized event, the door it came through and, from a webhook, the logged delivery it came in. */
export interface IncomingEvent extends NormalizedEvent {
  source: string;
  deliveryId?: string;
}

/** A delivery a door accepted: its log row is written in the same statement as its events. */
export interface AcceptedDelivery extends ReceivedDelivery {
  eventCount: number;
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
}

export interface StoreResult {
  outcomes: StoreOutcome[];
  /** One per stored, matched event: publish these after commit. */
  updates: TransferUpdate[];
}

type NewEventRow = Omit<FoldableEvent, "id"> & Pick<EventRow, "raw">;

/**
 * Inserts events unless their deduplication key is known, in one fixed-text statement whatever
 * their number. Without targets they are appended pending (the applier folds them later); with
 * targets they are stored already matched, for the caller to fold in the same transaction. The
 * same statement logs the accepted deliveries they came in: each is a duplicate when it has events
 * and none of them was stored.
 */
async function insertEvents(
  db: Queryable,
  events: IncomingEvent[],
  now: Date,
  { targets, deliveries = [] }: { targets?: Target[]; deliveries?: AcceptedDelivery[] } = {},
): Promise<{ outcomes: StoreOutcome[]; stored: FoldableEvent[] }> {
  const firstByKey = new Map<string, number>();
  events.forEach((event, index) => {
    if (!firstByKey.has(event.dedupeKey)) firstByKey.set(event.dedupeKey, index);
  });
  const rows: NewEventRow[] = [...firstByKey.values()].map((index) => {
    const event = events[index]!;
    const { transfer, message } = targets?.[index] ?? {};
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
      pending: !targets,
      correlation: event.correlation,
      seq: null,
      deliveryId: event.deliveryId ?? null,
    };
  });
  const logged = <T>(value: (delivery: AcceptedDelivery) => T) => deliveries.map(value);
  const column = <K extends keyof NewEventRow>(key: K, text: (value: NewEventRow[K]) => string | null = (value) => value as string | null) =>
    textArray(rows.map((row) => text(row[key])));
  const json = (value: unknown) => JSON.stringify(value);
  const inserted = await selectRows<{ id: string | number; dedupe_key: string }>(
    db,
    sql`WITH appended AS (
        INSERT INTO receipt_events (tenant_id, transfer_id, message_id, provider_message_id, phone, channel, event, occurred_at, received_at,
          provider, source, carrier, region, metadata, raw, dedupe_key, correlation, pending, delivery_id)
        SELECT tenant_id, transfer_id, message_id, provider_message_id, phone, channel, event, occurred_at::timestamptz, ${timestamp(now)},
          provider, source, carrier, region, metadata::jsonb, raw::jsonb, dedupe_key, correlation::jsonb, ${!targets}, delivery_id::uuid
        FROM unnest(${column("tenantId")}, ${column("transferId")}, ${column("messageId")}, ${column("providerMessageId")}, ${column("phone")},
          ${column("channel")}, ${column("event")}, ${column("occurredAt", (value) => value.toISOString())}, ${column("provider")}, ${column("source")},
          ${column("carrier")}, ${column("region")}, ${column("metadata", json)}, ${column("raw", json)}, ${column("dedupeKey")}, ${column("correlation", json)},
          ${column("deliveryId")})
          AS e(tenant_id, transfer_id, message_id, provider_message_id, phone, channel, event, occurred_at, provider, source, carrier, region, metadata, raw, dedupe_key, correlation, delivery_id)
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id, dedupe_key, delivery_id
      ), logged AS (
        INSERT INTO webhook_deliveries (id, tenant_id, source_id, provider, received_at, outcome, status_code, event_count, body, request)
        SELECT d.id::uuid, d.tenant_id, d.source_id, d.provider, d.received_at::timestamptz,
          CASE WHEN d.event_count::int = 0 OR d.id::uuid IN (SELECT delivery_id FROM appended) THEN 'ACCEPTED' ELSE 'DUPLICATE' END,
          200, d.event_count::int, decode(d.body, 'base64'), d.request::jsonb
        FROM unnest(${textArray(logged((delivery) => delivery.id))}, ${textArray(logged((delivery) => delivery.tenantId))},
          ${textArray(logged((delivery) => delivery.sourceId))}, ${textArray(logged((delivery) => delivery.provider))},
          ${textArray(logged((delivery) => delivery.receivedAt.toISOString()))}, ${textArray(logged((delivery) => String(delivery.eventCount)))},
          ${textArray(logged((delivery) => delivery.body.toString("base64")))}, ${textArray(logged((delivery) => json(delivery.request)))})
          AS d(id, tenant_id, source_id, provider, received_at, event_count, body, request)
      )
      SELECT id, dedupe_key FROM appended`,
  );
  const idByKey = new Map(inserted.map((row) => [row.dedupe_key, Number(row.id)]));
  return {
    outcomes: events.map((event, index) => ({ stored: firstByKey.get(event.dedupeKey) === index && idByKey.has(event.dedupeKey) })),
    stored: rows.filter((row) => idByKey.has(row.dedupeKey)).map((row) => ({ ...row, id: idByKey.get(row.dedupeKey)! })),
  };
}

/**
 * The webhook door's durable record: appends events to the log, pending, without correlating
 * them (the receipt applier folds them right after). A duplicate is not stored again.
 */
export async function appendEvents(db: Queryable, events: IncomingEvent[], deliveries: AcceptedDelivery[] = [], now = new Date()): Promise<StoreOutcome[]> {
  return (await insertEvents(db, events, now, { deliveries })).outcomes;
}

/**
 * Stores and folds events in the caller's transaction at once: Ackline's own decisions, taken
 * under the locks of the change they record (queued, sent, failed, revoked, suppressed).
 */
export async function storeEvents(tx: Transaction, events: IncomingEvent[], now = new Date()): Promise<StoreResult> {
  const { lockedTransfers, transferMessages, targets } = await correlate(
    tx,
    events.map((event) => event.correlation),
    now,
  );
  const { outcomes, stored } = await insertEvents(tx, events, now, { targets });
  const updates = await foldEvents(tx, lockedTransfers, transferMessages, stored, now);
  return { outcomes, updates };
}

/** What a batch of Ackline's dispatch decisions needs locked, and the events that record them. */
export interface MessageDecisions {
  /** Every transfer whose messages the decisions change. */
  transferIds: string[];
  /** Messages whose provider id is being recorded (the send API accepted them). */
  accepted: Array<{ messageId: string; providerMessageId: string }>;
  /** Ackline's own events about those messages (sent, failed, suppressed). */
  events: IncomingEvent[];
}

/**
 * Records decisions about many messages in the caller's transaction, under the locks every status
 * change takes (the provider ids being recorded, then the transfers, in a fixed order):
 * `writeMessages` changes the message rows (the provider ids among them), then the events are
 * stored, the receipts that arrived for those provider ids before the send API's answer did (left
 * unmatched by the applier) are attached, and both are folded, suppressions included. Events the
 * applier has not folded yet are its own to match.
 */
export async function recordMessageDecisions(
  tx: Transaction,
  decisions: MessageDecisions,
  writeMessages: () => Promise<void>,
  now = new Date(),
): Promise<TransferUpdate[]> {
  // Sent together (one round trip each): PostgreSQL still runs them in order, so the advisory
  // locks are held before the transfer rows are locked.
  const [, lockedTransfers] = await Promise.all([
    lockProviderMessageIds(tx, unique(decisions.accepted.map((accepted) => accepted.providerMessageId))),
    lockTransfers(tx, { providerMessageIds: [], messageIds: [], transferIds: unique(decisions.transferIds), phones: [] }, now),
  ]);
  await writeMessages();
  const [transferMessages, attached] = await Promise.all([
    messagesOf(tx, lockedTransfers.map((transfer) => transfer.id)),
    attachEarlyReceipts(tx, decisions.accepted.map((accepted) => accepted.messageId)),
  ]);
  const transferById = new Map(lockedTransfers.map((transfer) => [transfer.id, transfer]));
  const messageById = new Map(transferMessages.map((message) => [message.id, message]));
  const targets = decisions.events.map((event): Target => {
    const message = event.correlation.messageId ? messageById.get(event.correlation.messageId) : undefined;
    return message && { transfer: transferById.get(message.transferId)!, message };
  });
  const { stored } = decisions.events.length > 0 ? await insertEvents(tx, decisions.events, now, { targets }) : { stored: [] };
  return foldEvents(tx, lockedTransfers, transferMessages, [...attached, ...stored], now);
}

/** Unmatched, already folded receipts carrying these messages' (just recorded) provider ids, now attached to them. */
async function attachEarlyReceipts(tx: Transaction, messageIds: string[]): Promise<EventRow[]> {
  if (messageIds.length === 0) return [];
  return tx
    .update(receiptEvents)
    .set({
      tenantId: sql`${messages.tenantId}`,
      transferId: sql`${messages.transferId}`,
      messageId: sql`${messages.id}`,
      channel: sql`coalesce(${receiptEvents.channel}, ${messages.channel})`,
      provider: sql`CASE WHEN ${receiptEvents.provider} = ${receiptEvents.source} THEN ${messages.provider} ELSE ${receiptEvents.provider} END`,
      visibleXid: sql`(pg_current_xact_id()::text)::bigint`,
    })
    .from(messages)
    .where(
      and(
        sql`${messages.id} = ANY(${textArray(messageIds)})`,
        eq(receiptEvents.providerMessageId, messages.providerMessageId),
        isNull(receiptEvents.messageId),
        not(receiptEvents.pending),
        // Events through another tenant's own webhook source stay unmatched.
        sql`coalesce(${receiptEvents.correlation}->>'tenantId', ${messages.tenantId}) = ${messages.tenantId}`,
      ),
    )
    .returning();
}

/** Loads transfers as they now stand, with their messages (no locks). */
export async function loadTransferViews(db: Queryable, ids: string[], now = new Date()): Promise<TransferView[]> {
  if (ids.length === 0) return [];
  const rows = await db.select().from(transfers).where(sql`${transfers.id} = ANY(${textArray(ids)})`);
  const rowsMessages = await db.select().from(messages).where(sql`${messages.transferId} = ANY(${textArray(ids)})`);
  return rows.map((row) => toView(row, rowsMessages.filter((message) => message.transferId === row.id), now));
}
