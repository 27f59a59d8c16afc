import { and, asc, eq, gte, lte, sql, type SQL } from "drizzle-orm";
import type { Principal } from "../auth/access-tokens.js";
import type { Database } from "../db/client.js";
import { receiptEvents } from "../db/schema.js";
import type { Channel, ReceiptEventRecord, ReceiptEventType } from "./model.js";
import { decodeEventCursor, encodeEventCursor, SETTLED_BELOW } from "./receipt-event-cursor.js";
import { toEventRecord } from "./receipt-store.js";
import { requirePageSize } from "./validation.js";

export interface ReceiptEventQuery {
  transferId?: string;
  channel?: Channel;
  event?: ReceiptEventType;
  provider?: string;
  carrier?: string;
  region?: string;
  senderName?: string;
  messageId?: string;
  from?: Date;
  to?: Date;
}

export interface ReceiptEventPage {
  edges: Array<{ cursor: string; node: ReceiptEventRecord }>;
  hasNextPage: boolean;
  endCursor: string | null;
}

export const MAX_PAGE_SIZE = 500;

/** The widest time window whose events are found through their filter index and then sorted. */
const NARROW_WINDOW_MS = 7 * 86_400_000;

/**
 * Whether the filter itself picks few events: a transfer, a message, or a window of at most a
 * week. Those are found through their own index and sorted into commit order (the planner would
 * otherwise walk the commit-order index past every event before the window); any other query
 * walks that index in order and filters as it goes.
 */
function narrow(query: ReceiptEventQuery): boolean {
  const window = query.from && query.to ? query.to.getTime() - query.from.getTime() : Number.POSITIVE_INFINITY;
  return Boolean(query.transferId || query.messageId) || window <= NARROW_WINDOW_MS;
}

export class ReceiptHistoryService {
  constructor(private readonly db: Database) {}

  /** The tenant's receipt events in the order they became visible (newest last), a page at a time. */
  async list(principal: Principal, query: ReceiptEventQuery, first = 50, after?: string): Promise<ReceiptEventPage> {
    requirePageSize(first, MAX_PAGE_SIZE);
    const conditions: SQL[] = [eq(receiptEvents.tenantId, principal.tenantId)];
    if (query.transferId) conditions.push(eq(receiptEvents.transferId, query.transferId));
    if (query.channel) conditions.push(eq(receiptEvents.channel, query.channel));
    if (query.event) conditions.push(eq(receiptEvents.event, query.event));
    if (query.provider) conditions.push(eq(receiptEvents.provider, query.provider));
    if (query.carrier) conditions.push(eq(receiptEvents.carrier, query.carrier));
    if (query.region) conditions.push(eq(receiptEvents.region, query.region));
    if (query.messageId) conditions.push(eq(receiptEvents.messageId, query.messageId));
    if (query.senderName) {
      conditions.push(
        sql`${receiptEvents.transferId} IN (SELECT id FROM transfers WHERE tenant_id = ${principal.tenantId} AND sender_name = ${query.senderName})`,
      );
    }
    if (query.from) conditions.push(gte(receiptEvents.occurredAt, query.from));
    if (query.to) conditions.push(lte(receiptEvents.occurredAt, query.to));
    // `+ 0` keeps the planner off the commit-order index where the filter's own index finds fewer rows.
    const order = narrow(query) ? sql`${receiptEvents.visibleXid} + 0` : sql`${receiptEvents.visibleXid}`;
    if (after) {
      const cursor = decodeEventCursor(after);
      conditions.push(sql`(${order}, ${receiptEvents.id}) > (${cursor.visibleXid}::bigint, ${cursor.id}::bigint)`);
    }
    conditions.push(sql`${receiptEvents.visibleXid} < (${SETTLED_BELOW})`);
    const rows = await this.db
      .select()
      .from(receiptEvents)
      .where(and(...conditions))
      .orderBy(order, asc(receiptEvents.id))
      .limit(first + 1);
    const edges = rows.slice(0, first).map((row) => ({ cursor: encodeEventCursor(row), node: toEventRecord(row, encodeEventCursor(row)) }));
    return { edges, hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null };
  }
}
