import type { Channel, TransferRecord } from "../../src/domain/model.js";
import type { SendRequest } from "../../src/delivery/adapter.js";

/** A send as the dispatcher would hand it to an adapter: one message of one transfer, with its signed link. */
export function sendRequest(channel: Channel, overrides: Partial<TransferRecord> = {}): SendRequest {
  const now = new Date("2026-01-17T15:04:05.000Z");
  const transfer: TransferRecord = {
    id: "tx_adapterTest01",
    tenantId: "demo",
    senderName: "Ada Lovelace",
    senderEmail: null,
    recipientPhone: "+447700900123",
    recipientEmail: "grace@example.test",
    fileName: "analytical-engine-notes.pdf",
    fileSizeBytes: 482_133,
    description: "Notes on the Analytical Engine",
    expiresAt: new Date("2026-01-24T15:04:05.000Z"),
    securityPolicy: {},
    fileSha256: null,
    downloadCount: 0,
    storageRegion: null,
    status: "QUEUED",
    revokedAt: null,
    downloadedAt: null,
    downloadReceipt: null,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
  const id = `msg_${channel.toLowerCase()}AdapterTest`;
  return {
    message: { id, clientMessageId: id, channel },
    transfer,
    link: "https://ackline.example.test/d/AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    linkExpiresAt: transfer.expiresAt,
  };
}
