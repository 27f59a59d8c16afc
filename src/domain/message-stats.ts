import { sql } from "drizzle-orm";
import type { Transaction } from "../db/client.js";
import { textArray } from "../db/sql.js";
import type { MessageRow, TransferRow } from "./receipt-fold.js";

/** Seconds from `from` to `to` (never negative: a provider clock running early counts as at once); null without `to`. */
export function secondsBetween(from: Date, to: Date | null): number | null {
  return to ? Math.max(0, (to.getTime() - from.getTime()) / 1000) : null;
}

/**
 * Writes the statistics rows (`message_stats`) of these messages as they now stand, in one
 * statement. The caller holds their transfers' locks, so two folds never write one row at once.
 */
export async function projectMessageStats(tx: Transaction, rows: Array<{ message: MessageRow; transfer: TransferRow }>): Promise<void> {
  if (rows.length === 0) return;
  const column = (pick: (row: { message: MessageRow; transfer: TransferRow }) => string | number | boolean | null) =>
    textArray(rows.map((row) => {
      const value = pick(row);
      return value === null ? null : String(value);
    }));
  await tx.execute(
    sql`INSERT INTO message_stats (message_id, tenant_id, transfer_created_at, day, channel, provider, carrier, region, opens_transfer, fallback, sent, failed,
          deliver_seconds, read_seconds, download_seconds)
        SELECT id, tenant_id, created::timestamptz, (created::timestamptz AT TIME ZONE 'UTC')::date, channel, provider, carrier, region, opens::boolean,
          fallback::boolean, sent::boolean, failed::boolean, deliver::float8, read::float8, download::float8
        FROM unnest(${column(({ message }) => message.id)}, ${column(({ message }) => message.tenantId)}, ${column(({ transfer }) => transfer.createdAt.toISOString())},
          ${column(({ message }) => message.channel)}, ${column(({ message }) => message.provider)}, ${column(({ message }) => message.carrier)},
          ${column(({ message }) => message.region)}, ${column(({ message }) => message.opensTransfer)}, ${column(({ message }) => message.fallbackOfMessageId !== null)},
          ${column(({ message }) => message.sentAt !== null)}, ${column(({ message }) => message.failedAt !== null)},
          ${column(({ message, transfer }) => secondsBetween(transfer.createdAt, message.deliveredAt))},
          ${column(({ message, transfer }) => secondsBetween(transfer.createdAt, message.readAt))},
          ${column(({ message, transfer }) => (message.opensTransfer ? secondsBetween(transfer.createdAt, transfer.downloadedAt) : null))})
          AS s(id, tenant_id, created, channel, provider, carrier, region, opens, fallback, sent, failed, deliver, read, download)
        ON CONFLICT (message_id) DO UPDATE SET carrier = excluded.carrier, region = excluded.region, sent = excluded.sent, failed = excluded.failed,
          deliver_seconds = excluded.deliver_seconds, read_seconds = excluded.read_seconds, download_seconds = excluded.download_seconds,
          changed_xid = excluded.changed_xid`,
  );
}

/** The messages whose statistics a batch of events changes: theirs, and for a download its transfer's first message. */
export function statsTouchedBy(
  events: ReadonlyArray<{ event: string; messageId: string | null; transferId: string | null }>,
  messageById: ReadonlyMap<string, MessageRow>,
  transferById: ReadonlyMap<string, TransferRow>,
): Array<{ message: MessageRow; transfer: TransferRow }> {
  const touched = new Map<string, { message: MessageRow; transfer: TransferRow }>();
  const downloaded = new Set(events.filter((event) => event.event === "DOWNLOADED" && event.transferId).map((event) => event.transferId!));
  const add = (message: MessageRow | undefined) => {
    const transfer = message && transferById.get(message.transferId);
    if (message && transfer) touched.set(message.id, { message, transfer });
  };
  for (const event of events) if (event.messageId) add(messageById.get(event.messageId));
  for (const message of messageById.values()) if (message.opensTransfer && downloaded.has(message.transferId)) add(message);
  return [...touched.values()];
}

const secondsSinceCreation = (at: string) => `CASE WHEN ${at} IS NOT NULL THEN greatest(0, extract(epoch FROM ${at} - t.created_at))::float8 END`;

/**
 * The statistics rows of a tenant's messages ($1) rebuilt from the facts on the messages
 * themselves, for data written around the fold (the large seed, fixtures). Same values as
 * `projectMessageStats`.
 */
export const REBUILD_TENANT_MESSAGE_STATS = `
  INSERT INTO message_stats (message_id, tenant_id, transfer_created_at, day, channel, provider, carrier, region, opens_transfer, fallback, sent, failed,
    deliver_seconds, read_seconds, download_seconds)
  SELECT m.id, m.tenant_id, t.created_at, (t.created_at AT TIME ZONE 'UTC')::date, m.channel, m.provider, m.carrier, m.region, m.opens_transfer,
    m.fallback_of_message_id IS NOT NULL, m.sent_at IS NOT NULL, m.failed_at IS NOT NULL,
    ${secondsSinceCreation("m.delivered_at")}, ${secondsSinceCreation("m.read_at")}, CASE WHEN m.opens_transfer THEN ${secondsSinceCreation("t.downloaded_at")} END
  FROM messages m JOIN transfers t ON t.id = m.transfer_id
  WHERE m.tenant_id = $1
  ON CONFLICT (message_id) DO UPDATE SET carrier = excluded.carrier, region = excluded.region, sent = excluded.sent, failed = excluded.failed,
    deliver_seconds = excluded.deliver_seconds, read_seconds = excluded.read_seconds, download_seconds = excluded.download_seconds,
    changed_xid = excluded.changed_xid`;
