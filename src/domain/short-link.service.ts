import { eq } from "drizzle-orm";
import type { LinkCodes } from "../auth/link-codes.js";
import type { Database } from "../db/client.js";
import { messages, transfers } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import { recipientOf } from "./caller.js";
import { newId } from "./ids.js";
import type { Channel, TransferRecord, TransferUpdate } from "./model.js";
import { ownMessageEvent, storeEvents } from "./receipt-store.js";
import { securityOf } from "./transfer-security.js";

/** The recipient's browser, as far as the request tells. */
export interface RecipientClient {
  ip?: string;
  userAgent?: string;
}

/** A short link that checked out: the transfer and the message (and channel) it was sent in. */
export interface ResolvedLink {
  transfer: TransferRecord;
  message: { id: string; transferId: string; channel: Channel; provider: string };
  expiresAt: Date;
}

/** Why a link is refused: unknown or tampered is 403 (it was never valid), the others 410 (it was, and is no more). */
export type LinkRefusal = "unknown" | "tampered" | "expired" | "revoked" | "exhausted";

export const REFUSAL_STATUS: Record<LinkRefusal, 403 | 410> = { unknown: 403, tampered: 403, expired: 410, revoked: 410, exhausted: 410 };

export type LinkResolution = { ok: true; link: ResolvedLink } | { ok: false; refusal: LinkRefusal; senderName?: string };

export interface ShortLinkServiceDeps {
  db: Database;
  linkCodes: LinkCodes;
  publishUpdates(updates: TransferUpdate[]): void;
  /** Refusals no tenant can be named for (a code that names no message) are only logged. */
  logUnattributed(details: { reason: LinkRefusal; ip?: string }): void;
}

/**
 * `/d/<code>`: checks a short link against the message it names, records that it was opened
 * (LINK_OPENED: history only, since previews and mail scanners open links too), and audits every
 * refusal under the tenant whose link it claims to be.
 */
export class ShortLinkService {
  constructor(private readonly deps: ShortLinkServiceDeps) {}

  async resolve(code: string, client: RecipientClient, now = new Date()): Promise<LinkResolution> {
    const decoded = this.deps.linkCodes.decode(code);
    const [found] = decoded
      ? await this.deps.db
          .select({ transfer: transfers, message: { id: messages.id, transferId: messages.transferId, channel: messages.channel, provider: messages.provider } })
          .from(messages)
          .innerJoin(transfers, eq(transfers.id, messages.transferId))
          .where(eq(messages.id, decoded.messageId))
      : [];
    if (!decoded || !found) {
      this.deps.logUnattributed({ reason: "unknown", ip: client.ip });
      return { ok: false, refusal: "unknown" };
    }
    const { transfer, message } = found;
    const refusal = ((): LinkRefusal | undefined => {
      if (!decoded.boundTo({ messageId: message.id, transferId: transfer.id, channel: message.channel })) return "tampered";
      if (transfer.revokedAt) return "revoked";
      if (decoded.expiresAt.getTime() <= now.getTime() || transfer.expiresAt.getTime() <= now.getTime()) return "expired";
      const { maxDownloads } = securityOf(transfer.securityPolicy);
      return maxDownloads !== null && transfer.downloadCount >= maxDownloads ? "exhausted" : undefined;
    })();
    if (refusal) {
      await this.refused(transfer, message.id, refusal, client, now);
      return { ok: false, refusal, senderName: refusal === "tampered" ? undefined : transfer.senderName };
    }
    return { ok: true, link: { transfer, message, expiresAt: decoded.expiresAt } };
  }

  /** Audits a refusal (the link's checks, or a download refused under the transfer's lock). */
  async refused(transfer: Pick<TransferRecord, "id" | "tenantId">, messageId: string, reason: LinkRefusal, client: RecipientClient, now = new Date()): Promise<void> {
    await this.deps.db.transaction((tx) => recordAudit(tx, recipientOf(transfer.tenantId, client), "link.refused", transfer.id, { reason, messageId }, now));
  }

  /** The landing page was shown: a LINK_OPENED event on the message (every open is one) and an audit entry. */
  async opened(link: ResolvedLink, client: RecipientClient, now = new Date()): Promise<void> {
    const metadata = { ip: client.ip ?? null, user_agent: client.userAgent ?? null };
    const event = ownMessageEvent(link.message, "LINK_OPENED", { occurredAt: now, metadata, source: "gateway", dedupeKey: `link-open:${link.message.id}:${newId("dl")}` });
    const updates = await this.deps.db.transaction(async (tx) => {
      await recordAudit(tx, recipientOf(link.transfer.tenantId, client), "link.open", link.transfer.id, { messageId: link.message.id, channel: link.message.channel }, now);
      return (await storeEvents(tx, [event], now)).updates;
    });
    this.deps.publishUpdates(updates);
  }
}
