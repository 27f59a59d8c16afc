import { sql } from "drizzle-orm";
import { errors, jwtVerify, SignJWT } from "jose";
import type { Principal } from "../auth/access-tokens.js";
import type { SigningKeys } from "../auth/signing-keys.js";
import type { Transaction } from "../db/client.js";
import { selectRows } from "../db/sql.js";
import type { Channel, TransferRecord } from "./model.js";

/** The JWS `typ` of a receipt, so neither a link token nor any other Ackline signature passes for one. */
export const RECEIPT_TYPE = "ackline-receipt+jwt";

/** One notification of the transfer, as the receipt tells it: when it was first sent, delivered and read (null: never). */
export interface ReceiptHistoryEntry {
  message_id: string;
  channel: Channel;
  sent_at: string | null;
  delivered_at: string | null;
  read_at: string | null;
}

/** What a receipt asserts, signed: who downloaded which file, when, from where, after which notifications. */
export interface ReceiptClaims {
  iss: string;
  sub: string;
  tenant_id: string;
  file_name: string;
  file_sha256: string | null;
  recipient: { phone: string | null; email: string | null };
  downloaded_at: string;
  ip: string | null;
  history: ReceiptHistoryEntry[];
}

export interface ReceiptVerification {
  valid: boolean;
  transferId: string | null;
  downloadedAt: Date | null;
  /** Why it is not valid (null when it is). */
  reason: string | null;
}

const REQUIRED_CLAIMS = ["iss", "sub", "tenant_id", "file_name", "recipient", "downloaded_at", "history"];

/** Each message's first SENT, DELIVERED and READ, from the event log (the transfer is locked by the caller). */
async function deliveryHistory(tx: Transaction, transferId: string): Promise<ReceiptHistoryEntry[]> {
  const rows = await selectRows<{ id: string; channel: Channel; sent_at: string | null; delivered_at: string | null; read_at: string | null }>(
    tx,
    sql`SELECT m.id, m.channel,
               min(e.occurred_at) FILTER (WHERE e.event = 'SENT') AS sent_at,
               min(e.occurred_at) FILTER (WHERE e.event = 'DELIVERED') AS delivered_at,
               min(e.occurred_at) FILTER (WHERE e.event = 'READ') AS read_at
        FROM messages AS m LEFT JOIN receipt_events AS e ON e.message_id = m.id AND e.event IN ('SENT', 'DELIVERED', 'READ')
        WHERE m.transfer_id = ${transferId}
        GROUP BY m.id, m.channel, m.created_at ORDER BY m.created_at, m.id`,
  );
  const iso = (value: string | null) => (value === null ? null : new Date(value).toISOString());
  return rows.map((row) => ({ message_id: row.id, channel: row.channel, sent_at: iso(row.sent_at), delivered_at: iso(row.delivered_at), read_at: iso(row.read_at) }));
}

/**
 * Signed download receipts: a compact JWS (EdDSA, Ackline's signing key, its kid in the header and
 * in `/.well-known/jwks.json`), checkable by anyone with the JWKS alone. Rotated-out keys stay
 * published, so older receipts keep verifying.
 */
export class DownloadReceipts {
  constructor(
    private readonly keys: SigningKeys,
    /** `PUBLIC_BASE_URL`: the receipts' `iss`. */
    private readonly issuer: () => string,
  ) {}

  /** The receipt of a first download, in the transaction recording it. */
  async issue(tx: Transaction, transfer: TransferRecord, download: { at: Date; ip: string | null }): Promise<string> {
    const claims: ReceiptClaims = {
      iss: this.issuer(),
      sub: transfer.id,
      tenant_id: transfer.tenantId,
      file_name: transfer.fileName,
      file_sha256: transfer.fileSha256,
      recipient: { phone: transfer.recipientPhone, email: transfer.recipientEmail },
      downloaded_at: download.at.toISOString(),
      ip: download.ip,
      history: await deliveryHistory(tx, transfer.id),
    };
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: "EdDSA", kid: this.keys.signer.kid, typ: RECEIPT_TYPE })
      .setIssuedAt()
      .sign(this.keys.signer.key);
  }

  /** Whether `jws` is a receipt Ackline signed for the caller's tenant; never throws for a bad one. */
  async verify(principal: Principal, jws: string): Promise<ReceiptVerification> {
    const invalid = (reason: string): ReceiptVerification => ({ valid: false, transferId: null, downloadedAt: null, reason });
    let claims: Partial<ReceiptClaims>;
    try {
      ({ payload: claims } = await jwtVerify<Partial<ReceiptClaims>>(jws.trim(), this.keys.publicKeys, {
        algorithms: ["EdDSA"],
        typ: RECEIPT_TYPE,
        requiredClaims: REQUIRED_CLAIMS,
      }));
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) return invalid("not signed by any of Ackline's keys");
      if (error instanceof errors.JOSEError) return invalid(`not a valid receipt: ${error.message}`);
      throw error;
    }
    if (claims.tenant_id !== principal.tenantId) return invalid("the receipt belongs to another tenant");
    const downloadedAt = new Date(claims.downloaded_at ?? "");
    if (typeof claims.sub !== "string" || Number.isNaN(downloadedAt.getTime())) return invalid("not a valid receipt: malformed claims");
    return { valid: true, transferId: claims.sub, downloadedAt, reason: null };
  }
}
