import { createPublicKey, type KeyObject, verify } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { messageIdFromEmailMessageId } from "../../domain/email-message-id.js";
import type { NormalizedEvent, ReceiptEventType } from "../../domain/model.js";
import {
  type NormalizedDelivery,
  parseJsonBody,
  parseProviderTime,
  providerId,
  requireFresh,
  sourceSecretsOf,
  unauthorized,
  webhookProvider,
} from "../provider.js";

/*
 * SendGrid Event Webhook: a JSON array of events, signed with ECDSA P-256 over SHA-256 of the
 * `X-Twilio-Email-Event-Webhook-Timestamp` header followed by the raw body. The signature (base64
 * DER) is in `X-Twilio-Email-Event-Webhook-Signature`; the key is the base64 DER public key shown
 * in SendGrid's Mail Settings. Each event is deduplicated by its `sg_event_id`.
 */

/** SendGrid retries a failed POST for 24 hours and does not say a retry is signed afresh. */
const MAX_SIGNATURE_AGE_SECONDS = 24 * 60 * 60;

/** SendGrid's event → Ackline's; null: acknowledged, nothing to store. */
const EVENTS: Readonly<Record<string, ReceiptEventType | null>> = {
  // SendGrid accepted it and will attempt delivery: it left Ackline's hands.
  processed: "SENT",
  // History: the receiving server asked SendGrid to try again later.
  deferred: "QUEUED",
  delivered: "DELIVERED",
  open: "READ",
  click: "ACTION",
  bounce: "FAILED",
  dropped: "FAILED",
  spamreport: "COMPLAINT",
  unsubscribe: "OPT_OUT",
  group_unsubscribe: "OPT_OUT",
  // Lifting a suppression takes the recipient's consent, recorded by hand, not a resubscription.
  group_resubscribe: null,
};

/** Drop reasons that mean the address itself is bad, like a hard bounce. */
const UNDELIVERABLE_DROPS = new Set(["bounced address", "invalid"]);

/** The fields kept in the event's metadata when present (all of them stay in its raw payload). */
const DETAIL_FIELDS = ["reason", "status", "response", "attempt", "url", "type", "bounce_classification"] as const;

const eventSchema = z.looseObject({
  event: z.enum(Object.keys(EVENTS) as [string, ...string[]], { error: (issue) => `unknown SendGrid event ${JSON.stringify(issue.input)}` }),
  sg_event_id: providerId,
  sg_message_id: providerId.optional(),
  "smtp-id": providerId.optional(),
  email: z.string().optional(),
  timestamp: z.number(),
  reason: z.string().optional(),
  type: z.string().optional(),
});
type SendGridEvent = z.infer<typeof eventSchema>;

function header(headers: IncomingHttpHeaders, name: string): string {
  return String(headers[name] ?? "");
}

/** The configured key as Node reads it; a key that is not P-256 verifies nothing (fail closed). */
function verificationKey(base64Der: string): KeyObject {
  try {
    const key = createPublicKey({ key: Buffer.from(base64Der, "base64"), format: "der", type: "spki" });
    if (key.asymmetricKeyDetails?.namedCurve === "prime256v1") return key;
  } catch {
    // Reported below, as for any other key.
  }
  throw unauthorized("the SendGrid verification key is not a base64 DER ECDSA P-256 public key");
}

/** Verifies the signature over the timestamp header and the raw body; exported for the official test vector. */
export function verifySendGridSignature(rawBody: Buffer, headers: IncomingHttpHeaders, publicKey: string | undefined, now: Date): void {
  if (!publicKey) throw unauthorized("SendGrid verification key is not configured");
  const signature = header(headers, "x-twilio-email-event-webhook-signature");
  const timestamp = header(headers, "x-twilio-email-event-webhook-timestamp");
  if (!signature || !timestamp) throw unauthorized("missing X-Twilio-Email-Event-Webhook-Signature or -Timestamp");
  if (!/^\d+$/.test(timestamp)) throw unauthorized("X-Twilio-Email-Event-Webhook-Timestamp is not a Unix time");
  const key = verificationKey(publicKey);
  let valid: boolean;
  try {
    valid = verify("sha256", Buffer.concat([Buffer.from(timestamp), rawBody]), { key, dsaEncoding: "der" }, Buffer.from(signature, "base64"));
  } catch {
    // Not a DER signature at all: as bad as a wrong one.
    valid = false;
  }
  if (!valid) throw unauthorized("X-Twilio-Email-Event-Webhook-Signature does not match");
  requireFresh(new Date(Number(timestamp) * 1000), now, MAX_SIGNATURE_AGE_SECONDS, "X-Twilio-Email-Event-Webhook-Timestamp");
}

function bounceType(event: SendGridEvent): string | undefined {
  // A bounce is hard unless SendGrid calls it a block (a soft bounce).
  if (event.event === "bounce") return event.type === "blocked" ? "soft" : "hard";
  if (event.event === "dropped" && UNDELIVERABLE_DROPS.has(event.reason?.toLowerCase() ?? "")) return "hard";
  return undefined;
}

function normalize(event: SendGridEvent, type: ReceiptEventType): NormalizedEvent {
  const ownId = messageIdFromEmailMessageId(event["smtp-id"]);
  const details = Object.fromEntries(DETAIL_FIELDS.filter((field) => event[field] !== undefined).map((field) => [field, event[field]]));
  const bounce = bounceType(event);
  return {
    event: type,
    occurredAt: parseProviderTime(event.timestamp),
    channel: "EMAIL",
    correlation: {
      // The relay's X-Message-Id, which Ackline recorded as the message's provider id, starts sg_message_id.
      ...(event.sg_message_id ? { providerMessageId: event.sg_message_id.split(".")[0] } : {}),
      ...(ownId ? { messageId: ownId } : {}),
    },
    dedupeKey: `sendgrid:${event.sg_event_id}`,
    metadata: { event: event.event, recipient: event.email, ...details, ...(bounce ? { bounce_type: bounce } : {}) },
    raw: event,
  };
}

export const sendgrid = webhookProvider({
  name: "sendgrid",
  sourceSecrets: sourceSecretsOf(["publicKey"], ({ publicKey }) => ({ sendgridPublicKey: publicKey })),
  verify: (rawBody, { headers }, secrets, now) => verifySendGridSignature(rawBody, headers, secrets.sendgridPublicKey, now),
  normalize(rawBody): NormalizedDelivery {
    const events = parseJsonBody(rawBody, z.array(eventSchema));
    return {
      events: events.flatMap((event) => {
        const type = EVENTS[event.event];
        return type ? [normalize(event, type)] : [];
      }),
      templateUpdates: [],
    };
  },
});
