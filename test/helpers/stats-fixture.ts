import postgres from "postgres";

/** A message of the hand-computed statistics fixture; times are seconds after its transfer's creation. */
export interface FixtureMessage {
  id: string;
  channel: "RCS" | "SMS" | "EMAIL";
  provider: string;
  carrier?: string;
  region?: string;
  opens?: boolean;
  fallbackOf?: string;
  sent?: number;
  delivered?: number;
  read?: number;
  failed?: number;
}

export interface FixtureTransfer {
  id: string;
  createdAt: string;
  downloaded?: number;
  messages: FixtureMessage[];
}

const later = (createdAt: string, seconds: number | undefined) => (seconds === undefined ? null : new Date(Date.parse(createdAt) + seconds * 1000));

/** Writes transfers and their messages (with the facts the fold keeps) straight into the database. */
export async function insertStatsFixture(databaseUrl: string, tenantId: string, transfers: FixtureTransfer[]): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    for (const transfer of transfers) {
      await sql`INSERT INTO transfers (id, tenant_id, sender_name, recipient_phone, file_name, file_size_bytes, expires_at, status, created_at, downloaded_at)
        VALUES (${transfer.id}, ${tenantId}, 'Fixture Sender', '+15550000000', 'f.pdf', 1, now() + interval '30 days', 'SENT',
          ${new Date(transfer.createdAt)}, ${later(transfer.createdAt, transfer.downloaded)})`;
      for (const message of transfer.messages) {
        await sql`INSERT INTO messages (id, tenant_id, transfer_id, channel, provider, client_message_id, status, dispatch_state, opens_transfer,
            fallback_of_message_id, carrier, region, sent_at, delivered_at, read_at, failed_at, created_at)
          VALUES (${message.id}, ${tenantId}, ${transfer.id}, ${message.channel}, ${message.provider}, ${message.id}, 'SENT', 'done', ${message.opens ?? false},
            ${message.fallbackOf ?? null}, ${message.carrier ?? null}, ${message.region ?? null}, ${later(transfer.createdAt, message.sent)},
            ${later(transfer.createdAt, message.delivered)}, ${later(transfer.createdAt, message.read)}, ${later(transfer.createdAt, message.failed)},
            ${new Date(transfer.createdAt)})`;
      }
    }
  } finally {
    await sql.end();
  }
}
