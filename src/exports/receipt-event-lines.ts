import type { ReceiptEventRecord } from "../domain/model.js";

/** The exported fields, in CSV column order. */
const COLUMNS = ["id", "transfer_id", "message_id", "channel", "event", "occurred_at", "received_at", "provider", "source", "carrier", "region", "metadata"] as const;

function fields(event: ReceiptEventRecord): Record<(typeof COLUMNS)[number], string | Record<string, unknown> | null> {
  return {
    id: event.id,
    transfer_id: event.transferId,
    message_id: event.messageId,
    channel: event.channel,
    event: event.event,
    occurred_at: event.occurredAt.toISOString(),
    received_at: event.receivedAt.toISOString(),
    provider: event.provider,
    source: event.source,
    carrier: event.carrier,
    region: event.region,
    metadata: event.metadata,
  };
}

/** RFC 4180 quoting; a cell a spreadsheet would run as a formula (=, +, -, @) is prefixed with '. */
function csvCell(value: string | Record<string, unknown> | null): string {
  if (value === null) return "";
  let text = typeof value === "string" ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const EXPORT_FORMATS = {
  ndjson: { contentType: "application/x-ndjson; charset=utf-8", header: null, line: (event: ReceiptEventRecord) => `${JSON.stringify(fields(event))}\n` },
  csv: {
    contentType: "text/csv; charset=utf-8",
    header: `${COLUMNS.join(",")}\r\n`,
    line: (event: ReceiptEventRecord) => {
      const row = fields(event);
      return `${COLUMNS.map((column) => csvCell(row[column])).join(",")}\r\n`;
    },
  },
} as const;
export type ExportFormat = keyof typeof EXPORT_FORMATS;
