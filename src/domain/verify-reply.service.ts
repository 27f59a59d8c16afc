import { eq } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { receiptEvents } from "../db/schema.js";
import { formatExpiry } from "./expiry-text.js";
import type { TransferRecord, TransferUpdate } from "./model.js";
import { parsePostback } from "./postback.js";
import { type IncomingEvent, storeEvents } from "./receipt-store.js";

/** What the RCS provider said to a reply: accepted (with its id), or why not. */
export type ReplyOutcome = { sent: true; providerMessageId: string } | { sent: false; error: string };

export interface VerifyReplyDeps {
  db: Database;
  /**
   * Answers in the recipient's RCS conversation through `provider` (the one whose door brought the
   * tap); undefined when Ackline cannot send through it.
   */
  reply(provider: string, request: { phone: string; text: string; clientRef: string }): Promise<ReplyOutcome | undefined>;
  /** The signing key as the JWKS publishes it. */
  signingKey(): Promise<{ kid: string; thumbprint: string }>;
  jwksUrl(): string;
  publishUpdates(updates: TransferUpdate[]): void;
}

/** The answer to a Verify ID tap: who sent the file, until when the link works, and the key that signs for Ackline. */
export function verifyReplyText(transfer: TransferRecord, key: { kid: string; thumbprint: string }, jwksUrl: string): string {
  const state = transfer.revokedAt ? "The sender has withdrawn it." : `The link expires ${formatExpiry(transfer.expiresAt)}.`;
  return (
    `Verified: "${transfer.fileName}" (ref ${transfer.id}) was sent by ${transfer.senderName} through Ackline. ${state} ` +
    `Ackline signs its links and receipts with key ${key.kid}, SHA-256 fingerprint ${key.thumbprint}, published at ${jwksUrl}.`
  );
}

/** The Verify ID taps among folded updates: ACTIONs from a provider whose postback is `verify:<their transfer>`. */
export function verifyTaps(updates: TransferUpdate[]): TransferUpdate[] {
  return updates.filter(({ transfer, event }) => {
    if (event?.event !== "ACTION" || event.source === "ackline") return false;
    const postback = parsePostback(event.metadata.postback);
    return postback?.action === "verify" && postback.transferId === transfer.id;
  });
}

/**
 * Answers the Verify ID button of the RCS notification (postback `verify:<transfer id>`): once the
 * tap is folded, a reply goes back through the provider that brought it, and the answer is recorded
 * as an ACTION with `metadata.action` `verify`. Only the transfer's own recipient is answered (a
 * postback is whatever the handset sends), at the transfer's phone. Best effort, after the tap is durable: a reply lost to a
 * crash is not sent again.
 */
export class VerifyReplyService {
  constructor(private readonly deps: VerifyReplyDeps) {}

  /** Answers every Verify ID tap among folded updates. */
  async answerTaps(updates: TransferUpdate[]): Promise<void> {
    for (const tap of verifyTaps(updates)) await this.answer(tap.transfer, tap.event!.id);
  }

  private async answer(transfer: TransferRecord, tapId: string): Promise<void> {
    const [tap] = await this.deps.db
      .select({ phone: receiptEvents.phone, provider: receiptEvents.provider, messageId: receiptEvents.messageId })
      .from(receiptEvents)
      .where(eq(receiptEvents.id, Number(tapId)));
    if (!tap) return;
    // The recipient's tap: on the message Ackline sent them (the provider named it), or from their phone.
    const phone = transfer.recipientPhone;
    const fromRecipient = phone !== null && (tap.messageId !== null || tap.phone === phone);
    const key = await this.deps.signingKey();
    const text = verifyReplyText(transfer, key, this.deps.jwksUrl());
    const outcome: Record<string, unknown> =
      fromRecipient
        ? await this.send(tap.provider, { phone, text, clientRef: `verify_${tapId}` })
        : { outcome: "refused", error: "the tap did not come from the transfer's recipient" };
    const answered: IncomingEvent = {
      event: "ACTION",
      occurredAt: new Date(),
      provider: tap.provider,
      source: "ackline",
      channel: "RCS",
      correlation: { transferId: transfer.id },
      dedupeKey: `ackline:verify:${tapId}`,
      metadata: { action: "verify", in_reply_to: tapId, key_id: key.kid, key_fingerprint: key.thumbprint, ...(outcome.outcome === "sent" ? { reply: text } : {}), ...outcome },
      raw: { transfer_id: transfer.id, event: "action", action: "verify", in_reply_to: tapId },
    };
    this.deps.publishUpdates(await this.deps.db.transaction(async (tx) => (await storeEvents(tx, [answered])).updates));
  }

  private async send(provider: string, request: { phone: string; text: string; clientRef: string }): Promise<Record<string, unknown>> {
    const replied = await this.deps.reply(provider, request).catch((error: unknown): ReplyOutcome => ({ sent: false, error: (error as Error).message }));
    if (!replied) return { outcome: "unsupported", error: `Ackline does not send through ${provider}` };
    return replied.sent ? { outcome: "sent", provider_message_id: replied.providerMessageId } : { outcome: "failed", error: replied.error };
  }
}
