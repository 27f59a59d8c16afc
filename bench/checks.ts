import { and, count, eq, gte, inArray, lt, sql } from "drizzle-orm";
import * as schema from "../src/db/schema.js";
import type { ReceiptEventType } from "../src/domain/model.js";
import { deriveTransferStatus, nextMessageStatus } from "../src/domain/status.js";
import type { BenchDatabase, Seeded } from "./harness.js";

/**
 * What the database holds after a run, checked against what the bench sent: every acknowledged
 * event stored once, and folded into its message's and transfer's status.
 */

/**
 * The stored events of the webhooks `from`..`to` (exclusive) of a factory whose webhook i carries
 * provider time base + i ms (`webhooks.ts`): the bench's own events, whatever else is stored.
 */
export async function storedWebhooks(db: BenchDatabase, baseMs: number, from: number, to: number) {
  const { receiptEvents } = schema;
  const [row] = await db
    .select({ stored: count(), matched: count(receiptEvents.messageId) })
    .from(receiptEvents)
    .where(
      and(
        eq(receiptEvents.source, "generic"),
        gte(receiptEvents.occurredAt, new Date(baseMs + from)),
        lt(receiptEvents.occurredAt, new Date(baseMs + to)),
      ),
    );
  const stored = row?.stored ?? 0;
  return { stored, unmatched: stored - (row?.matched ?? 0) };
}

/**
 * Messages and transfers among `seeded` whose status is not what their stored events make it:
 * each message's events folded by the domain's own reducer from QUEUED (the bench's events only
 * move progress forward, so their order does not change the result), each transfer derived from
 * its message. Run once the backlog is empty: then every acknowledged event must show.
 */
export async function statusesNotFolded(db: BenchDatabase, seeded: ReadonlyArray<Seeded>) {
  const { messages, transfers, receiptEvents } = schema;
  const rows = await db
    .select({
      status: messages.status,
      channel: messages.channel,
      fallbackAt: messages.fallbackAt,
      transferStatus: transfers.status,
      expiresAt: transfers.expiresAt,
      revokedAt: transfers.revokedAt,
      downloadedAt: transfers.downloadedAt,
      events: sql<Array<ReceiptEventType | null>>`array_agg(DISTINCT ${receiptEvents.event})`,
    })
    .from(messages)
    .innerJoin(transfers, eq(transfers.id, messages.transferId))
    .leftJoin(receiptEvents, eq(receiptEvents.messageId, messages.id))
    .where(inArray(messages.transferId, seeded.map(({ transferId }) => transferId)))
    .groupBy(messages.id, transfers.id);
  const now = new Date();
  let messagesBehind = 0;
  let transfersBehind = 0;
  for (const row of rows) {
    const folded = row.events.reduce((status, event) => (event ? nextMessageStatus(status, event, row.channel) : status), "QUEUED" as typeof row.status);
    if (row.status !== folded) messagesBehind += 1;
    if (row.transferStatus !== deriveTransferStatus(row, [{ status: folded, fallbackAt: row.fallbackAt }], now)) transfersBehind += 1;
  }
  return { checked: rows.length, messagesBehind, transfersBehind };
}
