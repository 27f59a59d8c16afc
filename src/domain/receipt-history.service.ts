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

/** Keyset cursor over `(occurred_at, id)`, the order of the tenant-first history index. */
export function receiptEventCursor(event: ReceiptEventRecord): string {
  return Buffer.from(`${event.occurredAt.toISOString()}|${event.id}`).toString("base64url");
}

function decodeCursor(cursor: string): { occurredAt: Date; id: number } {
  const [timestamp, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const occurredAt = new Date(timestamp ?? "");
  const year = occurredAt.getUTCFullYear();
  if (Number.isNaN(year) || year < 1 || year > 9999 || !/^\d+$/.test(id ?? "") || !Number.isSafeInteger(Number(id))) {
    throw new DomainError("BAD_USER_INPUT", "after is not a cursor this API issued", { field: "after" });
  }
  return { occurredAt, id: Number(id) };
}

export class ReceiptHistoryService {
  constructor(private readonly db: Database) {}

  /** The tenant's receipt events, oldest first (newest last), a page at a time. */
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
    if (after) {
      const cursor = decodeCursor(after);
      conditions.push(sql`(${receiptEvents.occurredAt}, ${receiptEvents.id}) > (${cursor.occurredAt.toISOString()}::timestamptz, ${cursor.id})`);
    }
    const rows = await this.db
      .select()
      .from(receiptEvents)
      .where(and(...conditions))
      .orderBy(asc(receiptEvents.occurredAt), asc(receiptEvents.id))
      .limit(first + 1);
    const edges = rows.slice(0, first).map((row) => {
      const node = toEventRecord(row);
      return { cursor: receiptEventCursor(node), node };
    });
    return { edges, hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null };
  }
}
