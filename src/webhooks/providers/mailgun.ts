import { z } from "zod";
import { messageIdFromEmailMessageId } from "../../domain/email-message-id.js";
import type { ReceiptEventType } from "../../domain/model.js";
import {
  hmacSha256,
  type NormalizedDelivery,
  type Verification,
  parseJsonBody,
  parsePayload,
  parseProviderTime,
  providerId,
  requireFresh,
  safeEqual,
  sourceSecretsOf,
  unauthorized,
  webhookProvider,
} from "../provider.js";

/*
 * Mailgun webhooks: one JSON event per POST, `{signature: {timestamp, token, signature}, "event-data"}`.
 * The signature is hex HMAC-SHA256(webhook signing key, timestamp + token); a subaccount's event
 * also carries `parent-signature`, made with the primary account's key, which is accepted too.
 * The token is single-use: the route refuses one already spent.
 */

/** Mailgun retries a failed POST for 8 hours and does not say a retry is signed afresh. */
const MAX_SIGNATURE_AGE_SECONDS = 8 * 60 * 60;

/** Mailgun's event → Ackline's; a failure depends on its severity (below). */
const EVENTS: Readonly<Record<string, ReceiptEventType>> = {
  accepted: "SENT",
  rejected: "FAILED",
  delivered: "DELIVERED",
  failed: "FAILED",
  opened: "READ",
  clicked: "ACTION",
  unsubscribed: "OPT_OUT",
  complained: "COMPLAINT",
};

const signedSchema = z.looseObject({
  signature: z.object({
    timestamp: z.union([z.string().regex(/^\d+$/, "not a Unix time"), z.number().int()]),
    token: providerId,
    signature: z.string(),
    "parent-signature": z.string().optional(),
  }),
});

const eventSchema = z.looseObject({
  id: providerId,
  event: z.enum(Object.keys(EVENTS) as [string, ...string[]], { error: (issue) => `unknown Mailgun event ${JSON.stringify(issue.input)}` }),
  timestamp: z.number(),
  recipient: z.string().optional(),
  severity: z.string().optional(),
  reason: z.string().optional(),
  url: z.string().optional(),
  "delivery-status": z.record(z.string(), z.unknown()).optional(),
  message: z.looseObject({ headers: z.looseObject({ "message-id": providerId.optional() }).optional() }).optional(),
});

/** Verifies the body's signature block; its token is single-use. */
function verifySignature(rawBody: Buffer, signingKey: string | undefined, now: Date): Verification {
  if (!signingKey) throw unauthorized("Mailgun webhook signing key is not configured");
  const body = parseJsonBody(rawBody, signedSchema);
  const { timestamp, token, signature, "parent-signature": parentSignature } = body.signature;
  const expected = Buffer.from(hmacSha256(signingKey, `${timestamp}${token}`).toString("hex"));
  // Compared as lower-case hex text: Node's lenient hex decoder would accept trailing garbage.
  const matches = [signature, parentSignature].some((candidate) => candidate !== undefined && safeEqual(Buffer.from(candidate.toLowerCase()), expected));
  if (!matches) throw unauthorized("Mailgun signature does not match");
  const signedAt = new Date(Number(timestamp) * 1000);
  requireFresh(signedAt, now, MAX_SIGNATURE_AGE_SECONDS, "Mailgun signature timestamp");
  return { replayToken: { token, expiresAt: new Date(signedAt.getTime() + MAX_SIGNATURE_AGE_SECONDS * 1000) } };
}

export const mailgun = webhookProvider({
  name: "mailgun",
  sourceSecrets: sourceSecretsOf(["signingKey"], ({ signingKey }) => ({ mailgunSigningKey: signingKey })),
  verify: (rawBody, _request, secrets, now) => verifySignature(rawBody, secrets.mailgunSigningKey, now),
  normalize(rawBody): NormalizedDelivery {
    const body = parseJsonBody(rawBody, signedSchema);
    const data = parsePayload(body["event-data"], eventSchema);
    // A temporary failure is history: Mailgun keeps trying. A permanent one is a hard bounce.
    const temporary = data.event === "failed" && data.severity !== "permanent";
    const messageIdHeader = data.message?.headers?.["message-id"];
    const ownId = messageIdFromEmailMessageId(messageIdHeader);
    const occurredAt = parseProviderTime(data.timestamp);
    return {
      events: [
        {
          event: temporary ? "QUEUED" : EVENTS[data.event]!,
          occurredAt,
          channel: "EMAIL",
          correlation: {
            // Mailgun reports the Message-ID the sender set, without its angle brackets; Ackline recorded it with them.
            ...(messageIdHeader ? { providerMessageId: messageIdHeader.startsWith("<") ? messageIdHeader : `<${messageIdHeader}>` } : {}),
            ...(ownId ? { messageId: ownId } : {}),
          },
          // Mailgun's event id is unique within a day: with the event's own time, for good.
          dedupeKey: `mailgun:${data.id}:${occurredAt.toISOString()}`,
          metadata: {
            event: data.event,
            recipient: data.recipient,
            severity: data.severity,
            reason: data.reason,
            url: data.url,
            delivery_status: data["delivery-status"],
            ...(data.event === "failed" && !temporary ? { bounce_type: "permanent" } : {}),
          },
          raw: body["event-data"],
        },
      ],
      templateUpdates: [],
    };
  },
});
