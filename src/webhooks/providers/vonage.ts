import { errors, jwtVerify } from "jose";
import { z } from "zod";
import type { NormalizedEvent, ReceiptEventType } from "../../domain/model.js";
import {
  bodyHashMatches,
  e164,
  isStopReply,
  malformed,
  type NormalizedDelivery,
  parseJsonBody,
  parseProviderTime,
  providerId,
  retryLater,
  sourceSecretsOf,
  transferIdFromPostback,
  unauthorized,
  webhookProvider,
} from "../provider.js";

/*
 * Vonage Messages API (v1): status webhooks and inbound messages, JSON, signed with
 * `Authorization: Bearer <JWT>` — HS256 with the account's signature secret, claims `iat`, `jti`,
 * `iss: "Vonage"`, `api_key`, `application_id` and `payload_hash` (hex SHA-256 of the body); no `exp`.
 * Vonage documents that an internal error may send a callback unsigned and that a 5xx makes it retry
 * (it retries 429 and 5xx for 24 hours, never 4xx): an unsigned callback is answered 503, not 401.
 */

const STATUS_EVENTS = {
  // Handed on towards the carrier (SMS) or the RCS platform: it left Vonage.
  submitted: "SENT",
  delivered: "DELIVERED",
  read: "READ",
  // Refused by Vonage or the network, TTL expiry included (rejected), or the network unreachable.
  rejected: "FAILED",
  undeliverable: "FAILED",
} as const satisfies Record<string, ReceiptEventType>;

/** A retried callback may carry the JWT of its first attempt (Vonage retries for 24 hours). */
const MAX_TOKEN_AGE_SECONDS = 24 * 60 * 60;
const CLOCK_TOLERANCE_SECONDS = 5 * 60;

/** The fields Ackline reads; the rest (usage, workflow …) are kept in the raw payload. */
const payloadSchema = z.looseObject({
  message_uuid: providerId,
  timestamp: z.string(),
  channel: z.enum(["rcs", "sms"], { error: (issue) => `channel ${JSON.stringify(issue.input)} is not one Ackline sends on (rcs, sms)` }),
  to: z.string().optional(),
  from: z.string().optional(),
  status: z
    .enum(Object.keys(STATUS_EVENTS) as [keyof typeof STATUS_EVENTS], { error: (issue) => `unknown status ${JSON.stringify(issue.input)}` })
    .optional(),
  error: z.record(z.string(), z.unknown()).optional(),
  client_ref: providerId.optional(),
  message_type: z.string().optional(),
  text: z.string().optional(),
  reply: z.object({ id: z.string().optional(), title: z.string().optional() }).optional(),
  button: z.object({ payload: z.string().optional(), text: z.string().optional() }).optional(),
});
type VonagePayload = z.infer<typeof payloadSchema>;

async function verifySignature(rawBody: Buffer, authorization: string | undefined, secret: string | undefined, now: Date): Promise<void> {
  if (!secret) throw unauthorized("Vonage signature secret is not configured");
  if (!authorization) throw retryLater("unsigned Vonage callback: refused until Vonage retries it signed");
  const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
  if (!token) throw unauthorized("Authorization is not a Bearer JWT");
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ["HS256"],
      currentDate: now,
      maxTokenAge: MAX_TOKEN_AGE_SECONDS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (error) {
    if (error instanceof errors.JOSEError) throw unauthorized(`Vonage JWT refused: ${error.message}`);
    throw error;
  }
  if (typeof claims.payload_hash !== "string") throw unauthorized("Vonage JWT has no payload_hash");
  if (!bodyHashMatches(rawBody, claims.payload_hash)) throw unauthorized("payload_hash does not match the body");
}

function inboundEvent(payload: VonagePayload, messageType: string, base: Pick<NormalizedEvent, "occurredAt" | "channel" | "raw">): NormalizedEvent {
  if (!payload.from) throw malformed("from is required for an inbound message");
  const phone = e164(payload.from);
  const common = { ...base, dedupeKey: `vonage:${payload.message_uuid}:inbound` };
  // A tapped suggested reply or suggested action: its postback is the id Ackline gave it.
  const postback = messageType === "reply" ? payload.reply?.id : messageType === "button" ? payload.button?.payload : undefined;
  if (postback !== undefined) {
    return {
      ...common,
      event: "ACTION",
      correlation: { transferId: transferIdFromPostback(postback), phone },
      metadata: { kind: messageType, postback, text: payload.reply?.title ?? payload.button?.text },
    };
  }
  return {
    ...common,
    event: messageType === "text" && isStopReply(payload.text) ? "OPT_OUT" : "REPLY",
    correlation: { phone },
    metadata: { kind: messageType, ...(payload.text !== undefined ? { text: payload.text } : {}) },
  };
}

export const vonage = webhookProvider({
  name: "vonage",
  sourceSecrets: sourceSecretsOf(["signatureSecret"], ({ signatureSecret }) => ({ vonageSignatureSecret: signatureSecret })),
  verify: (rawBody, { headers }, secrets, now) => verifySignature(rawBody, headers.authorization, secrets.vonageSignatureSecret, now),
  normalize(rawBody): NormalizedDelivery {
    const payload = parseJsonBody(rawBody, payloadSchema);
    const base = { occurredAt: parseProviderTime(payload.timestamp), channel: payload.channel === "rcs" ? ("RCS" as const) : ("SMS" as const), raw: payload };
    if (payload.status) {
      return {
        events: [
          {
            ...base,
            event: STATUS_EVENTS[payload.status],
            // client_ref is Ackline's id for the message, inside the signed body.
            correlation: { providerMessageId: payload.message_uuid, ...(payload.client_ref ? { messageId: payload.client_ref } : {}) },
            dedupeKey: `vonage:${payload.message_uuid}:${payload.status}`,
            metadata: { status: payload.status, ...(payload.error ? { error: payload.error } : {}) },
          },
        ],
        templateUpdates: [],
      };
    }
    if (!payload.message_type) throw malformed("neither status (a status webhook) nor message_type (an inbound message)");
    return { events: [inboundEvent(payload, payload.message_type, base)], templateUpdates: [] };
  },
});
