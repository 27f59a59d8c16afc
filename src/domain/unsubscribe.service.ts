import { eq } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { messages, transfers } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import { recipientOf } from "./caller.js";
import { DomainError } from "./errors.js";
import type { TransferUpdate } from "./model.js";
import { ownMessageEvent, storeEvents } from "./receipt-store.js";

export interface UnsubscribeServiceDeps {
  db: Database;
  publishUpdates(updates: TransferUpdate[]): void;
}

/** The recipient's one-click unsubscribe from an email notification. */
export class UnsubscribeService {
  constructor(private readonly deps: UnsubscribeServiceDeps) {}

  /**
   * The recipient unsubscribes from an email (its one-click link): an OPT_OUT on that message,
   * which suppresses the address for the tenant. Doing it again changes nothing.
   */
  async recordUnsubscribe(messageId: string, client: { ip?: string; userAgent?: string; oneClick: boolean }, now = new Date()): Promise<{ email: string }> {
    const { updates, email } = await this.deps.db.transaction(async (tx) => {
      const [row] = await tx.select({ message: messages, transfer: transfers }).from(messages).innerJoin(transfers, eq(transfers.id, messages.transferId)).where(eq(messages.id, messageId));
      const address = row?.message.channel === "EMAIL" ? row.transfer.recipientEmail : null;
      if (!row || !address) throw new DomainError("NOT_FOUND", `email message ${messageId} not found`);
      const metadata = { via: client.oneClick ? "one-click" : "page", ip: client.ip ?? null, user_agent: client.userAgent ?? null };
      const optOut = ownMessageEvent(row.message, "OPT_OUT", { occurredAt: now, metadata, source: "unsubscribe", dedupeKey: `unsubscribe:${messageId}` });
      const stored = await storeEvents(tx, [optOut], now);
      if (stored.outcomes[0]?.stored) await recordAudit(tx, recipientOf(row.transfer.tenantId, client), "suppression.unsubscribe", row.transfer.id, { address }, now);
      return { updates: stored.updates, email: address };
    });
    this.deps.publishUpdates(updates);
    return { email };
  }
}
