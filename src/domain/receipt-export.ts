import { and, asc, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { receiptEvents } from "../db/schema.js";
import type { ReceiptEventRecord } from "./model.js";
import { encodeEventCursor } from "./receipt-event-cursor.js";
import { toEventRecord } from "./receipt-store.js";

/** Rows held in memory at once: the export's whole footprint, however many rows it streams. */
export const EXPORT_BATCH_SIZE = 1000;

/** Events whose provider time is in [from, to). */
export interface ExportRange {
  from?: Date;
  to?: Date;
}

/**
 * The tenant's receipt events in provider-time order, one at a time, read in keyset batches over
 * the `(tenant_id, occurred_at, id)` index: memory stays at one batch, no transaction or cursor is
 * held open between batches, and a slow reader only slows its own export.
 */
export async function* exportReceiptEvents(db: Database, tenantId: string, range: ExportRange, batchSize = EXPORT_BATCH_SIZE): AsyncGenerator<ReceiptEventRecord> {
  const bounds: SQL[] = [eq(receiptEvents.tenantId, tenantId)];
  if (range.from) bounds.push(gte(receiptEvents.occurredAt, range.from));
  if (range.to) bounds.push(lt(receiptEvents.occurredAt, range.to));
  let after: { occurredAt: Date; id: number } | undefined;
  for (;;) {
    const page = await db
      .select()
      .from(receiptEvents)
      .where(and(...bounds, after && sql`(${receiptEvents.occurredAt}, ${receiptEvents.id}) > (${after.occurredAt.toISOString()}::timestamptz, ${after.id})`))
      .orderBy(asc(receiptEvents.occurredAt), asc(receiptEvents.id))
      .limit(batchSize);
    for (const row of page) yield toEventRecord(row, encodeEventCursor(row));
    if (page.length < batchSize) return;
    const last = page.at(-1)!;
    after = { occurredAt: last.occurredAt, id: last.id };
  }
}
