import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import { eq, gte, lte, or } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { linkOtps } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import { recipientOf } from "./caller.js";
import type { TransferRecord } from "./model.js";
import type { RecipientClient, ResolvedLink } from "./short-link.service.js";

/** A code lives this long, and this many wrong tries void it. */
export const OTP_TTL_MS = 10 * 60_000;
export const OTP_MAX_FAILURES = 5;
/** A new code for the same link no sooner than this (unless the last one is void): each one is a paid SMS. */
export const OTP_RESEND_INTERVAL_MS = 30_000;

/** How a code reached the recipient: the channel and the address, masked for the page. */
export type OtpDelivery =
  | { sent: true; channel: "SMS" | "EMAIL"; maskedTo: string }
  /** `retryAfterSeconds`: a code went out moments ago, and it still works. */
  | { sent: false; error: string; retryAfterSeconds?: number };

/** Sends a code on a second channel: SMS to the phone, or email when there is no phone (or no SMS sender for codes). */
export type OtpSender = (transfer: TransferRecord, code: string) => Promise<OtpDelivery>;

export type OtpCheck = "right" | "wrong" | "voided" | "expired";

const hashOf = (messageId: string, code: string) => createHash("sha256").update(`${messageId}:${code}`).digest();

export interface OtpServiceDeps {
  db: Database;
  send: OtpSender;
}

/**
 * One-time codes guarding a short link's download: one live code per link, stored hashed, valid
 * 10 minutes, void after the fifth wrong try until a new one is requested. Every code sent and
 * every try is audited.
 */
export class OtpService {
  constructor(private readonly deps: OtpServiceDeps) {}

  /** A new code for the link (replacing any earlier one, and its count of wrong tries), sent on a second channel. */
  async request(link: ResolvedLink, client: RecipientClient, now = new Date()): Promise<OtpDelivery> {
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    const row = {
      codeHash: hashOf(link.message.id, code).toString("hex"),
      failures: 0,
      expiresAt: new Date(now.getTime() + OTP_TTL_MS),
      createdAt: now,
    };
    const resendFrom = new Date(now.getTime() - OTP_RESEND_INTERVAL_MS);
    // One statement decides, so concurrent clicks send one code: a new one only once the last is old enough, or void.
    const [replaced] = await this.deps.db
      .insert(linkOtps)
      .values({ messageId: link.message.id, tenantId: link.transfer.tenantId, transferId: link.transfer.id, ...row })
      .onConflictDoUpdate({
        target: linkOtps.messageId,
        set: row,
        setWhere: or(lte(linkOtps.createdAt, resendFrom), gte(linkOtps.failures, OTP_MAX_FAILURES)),
      })
      .returning({ messageId: linkOtps.messageId });
    if (!replaced) return { sent: false, error: "a code was sent moments ago", retryAfterSeconds: Math.ceil(OTP_RESEND_INTERVAL_MS / 1000) };
    const delivery = await this.deps.send(link.transfer, code);
    const details = delivery.sent ? { messageId: link.message.id, channel: delivery.channel } : { messageId: link.message.id, error: delivery.error };
    await this.deps.db.transaction((tx) => recordAudit(tx, recipientOf(link.transfer.tenantId, client), delivery.sent ? "otp.send" : "otp.send_failed", link.transfer.id, details, now));
    return delivery;
  }

  /** Checks a try against the link's live code; a right code is spent at once. */
  async verify(link: ResolvedLink, code: string, client: RecipientClient, now = new Date()): Promise<OtpCheck> {
    return this.deps.db.transaction(async (tx) => {
      const [live] = await tx.select().from(linkOtps).where(eq(linkOtps.messageId, link.message.id)).for("update");
      const outcome = ((): OtpCheck => {
        if (!live || live.expiresAt.getTime() <= now.getTime()) return "expired";
        if (live.failures >= OTP_MAX_FAILURES) return "voided";
        const right = /^\d{6}$/.test(code) && timingSafeEqual(hashOf(link.message.id, code), Buffer.from(live.codeHash, "hex"));
        if (right) return "right";
        return live.failures + 1 >= OTP_MAX_FAILURES ? "voided" : "wrong";
      })();
      if (outcome === "right") await tx.delete(linkOtps).where(eq(linkOtps.messageId, link.message.id));
      else if (live && outcome !== "expired" && live.failures < OTP_MAX_FAILURES) {
        await tx.update(linkOtps).set({ failures: live.failures + 1 }).where(eq(linkOtps.messageId, link.message.id));
      }
      await recordAudit(tx, recipientOf(link.transfer.tenantId, client), "otp.verify", link.transfer.id, { messageId: link.message.id, outcome }, now);
      return outcome;
    });
  }
}
