import { and, asc, eq, gte, lte, sql, type SQL } from "drizzle-orm";
import type { Principal } from "../auth/access-tokens.js";
import type { Database } from "../db/client.js";
import { receiptEvents } from "../db/schema.js";
import { DomainError } from "./errors.js";
import type { Channel, ReceiptEventRecord, ReceiptEventType } from "./model.js";
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

/**
 * Keyset cursor over `(visible_xid, id)`: the order events became visible to the tenant. Ids and
 * provider times are handed out before commit, so an event with a smaller one can commit after a
 * page was read past it; a transaction id below every running transaction's of this database
 * (SETTLED_BELOW) cannot gain rows any more. Pages stop there, so a reader that follows
 * `endCursor` sees each event exactly once, however the writers' commits interleave.
 */
function encodeCursor(row: { visibleXid: number; id: number }): string {
  return Buffer.from(`${row.visibleXid}|${row.id}`).toString("base64url");
}

function decodeCursor(cursor: string): { visibleXid: string; id: string } {
  const [xid, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const isKey = (value: string | undefined): value is string => /^\d{1,18}$/.test(value ?? "");
  if (!isKey(xid) || !isKey(id)) {
    throw new DomainError("BAD_USER_INPUT", "after is not a cursor this API issued", { field: "after" });
  }
  return { visibleXid: xid, id };
}

/**
 * The transaction id below which every transaction of this database has ended (as of the
 * statement's snapshot): the snapshot's oldest in-progress transaction, leaving out those that
 * belong to another database of the server (they cannot write here, and a long one would hold
 * every page back). One whose database is unknown (it ended meanwhile, or is not ours to see)
 * counts, so the bound only ever errs towards waiting.
 */
const SETTLED_BELOW = sql.raw(`SELECT least((pg_snapshot_xmax(s)::text)::bigint,
    (SELECT min((x::text)::bigint) FROM pg_snapshot_xip(s) AS x WHERE (x::text)::bigint % 4294967296 NOT IN (
      SELECT (backend_xid::text)::bigint FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database())))
  FROM pg_current_snapshot() AS s`);

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
      const cursor = decodeCursor(after);
      conditions.push(sql`(${order}, ${receiptEvents.id}) > (${cursor.visibleXid}::bigint, ${cursor.id}::bigint)`);
    }
    conditions.push(sql`${receiptEvents.visibleXid} < (${SETTLED_BELOW})`);
    const rows = await this.db
      .select()
      .from(receiptEvents)
      .where(and(...conditions))
      .orderBy(order, asc(receiptEvents.id))
      .limit(first + 1);
    const edges = rows.slice(0, first).map((row) => ({ cursor: encodeCursor(row), node: toEventRecord(row) }));
    return { edges, hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null };
  }
}
