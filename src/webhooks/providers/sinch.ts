import { createHmac } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import type { NormalizedEvent, ReceiptEventType } from "../../domain/model.js";
import {
  e164,
  isStopReply,
  malformed,
  type NormalizedDelivery,
  parseJsonBody,
  parsePayload,
  parseProviderTime,
  phoneChannelSchema,
  providerId,
  safeEqual,
  sourceSecretsOf,
  transferIdFromPostback,
  unauthorized,
  verifyFreshTimestamp,
  webhookProvider,
} from "../provider.js";

/*
 * Sinch Conversation API callbacks: one JSON event per POST, named by its trigger's key
 * (`message_delivery_report`, `message` …). Signed when the webhook has a secret:
 * `x-sinch-webhook-signature` = base64(HMAC(secret, raw body + "." + nonce + "." + timestamp)) with
 * the `-nonce`, `-timestamp` (Unix seconds) and `-algorithm` headers; the timestamp must be within
 * ±5 minutes. A `correlation_id` given at send comes back on every callback: it carries Ackline's
 * message id.
 */

/** Sinch's delivery status → Ackline's event. */
const DELIVERY_EVENTS = {
  QUEUED_ON_CHANNEL: "QUEUED",
  // Sinch's own channel fallback moves the message to its next channel: history, it is still on its way.
  SWITCHING_CHANNEL: "QUEUED",
  DELIVERED: "DELIVERED",
  READ: "READ",
  FAILED: "FAILED",
} as const satisfies Record<string, ReceiptEventType>;

const HMAC_ALGORITHMS: Readonly<Record<string, string>> = { HmacSHA256: "sha256", HmacSHA384: "sha384", HmacSHA512: "sha512" };

const channelIdentitySchema = z.looseObject({ channel: phoneChannelSchema, identity: z.string().min(1) });

const envelope = {
  app_id: z.string(),
  accepted_time: z.string().optional(),
  event_time: z.string().optional(),
  correlation_id: z.string().optional(),
};

const deliverySchema = z.looseObject({
  ...envelope,
  message_delivery_report: z.looseObject({
    message_id: providerId,
    status: z.enum(Object.keys(DELIVERY_EVENTS) as [keyof typeof DELIVERY_EVENTS], {
      error: (issue) => `unknown status ${JSON.stringify(issue.input)}`,
    }),
    channel_identity: channelIdentitySchema,
    reason: z.looseObject({ code: z.string().optional(), description: z.string().optional(), sub_code: z.string().optional() }).optional(),
  }),
});

const inboundSchema = z.looseObject({
  ...envelope,
  message: z.looseObject({
    id: providerId,
    channel_identity: channelIdentitySchema,
    accept_time: z.string().optional(),
    contact_message: z.looseObject({
      text_message: z.object({ text: z.string() }).optional(),
      choice_response_message: z.object({ message_id: z.string().optional(), postback_data: z.string() }).optional(),
    }),
  }),
});

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return typeof value === "string" ? value : "";
}

function verifySignature(rawBody: Buffer, headers: IncomingHttpHeaders, secret: string | undefined, now: Date): void {
  if (!secret) throw unauthorized("Sinch webhook secret is not configured");
  const signature = header(headers, "x-sinch-webhook-signature");
  const nonce = header(headers, "x-sinch-webhook-signature-nonce");
  const timestamp = header(headers, "x-sinch-webhook-signature-timestamp");
  if (!signature || !nonce || !timestamp) throw unauthorized("missing x-sinch-webhook-signature, -nonce or -timestamp");
  const algorithm = HMAC_ALGORITHMS[header(headers, "x-sinch-webhook-signature-algorithm") || "HmacSHA256"];
  if (!algorithm) throw unauthorized("x-sinch-webhook-signature-algorithm is not HmacSHA256, HmacSHA384 or HmacSHA512");
  verifyFreshTimestamp(timestamp, now, "x-sinch-webhook-signature-timestamp");
  const signed = Buffer.concat([rawBody, Buffer.from(`.${nonce}.${timestamp}`)]);
  // Compared as canonical base64 text: Node's lenient decoder would accept trailing garbage.
  const expected = createHmac(algorithm, secret).update(signed).digest("base64");
  if (!safeEqual(Buffer.from(signature), Buffer.from(expected))) throw unauthorized("x-sinch-webhook-signature does not match");
}

function deliveryEvent(payload: z.infer<typeof deliverySchema>, occurredAt: Date): NormalizedEvent {
  const report = payload.message_delivery_report;
  const { channel } = report.channel_identity;
  return {
    event: DELIVERY_EVENTS[report.status],
    occurredAt,
    channel,
    correlation: { providerMessageId: report.message_id, ...(payload.correlation_id ? { messageId: payload.correlation_id } : {}) },
    // No event id: with Sinch's channel fallback the same status can come once per channel.
    dedupeKey: `sinch:${report.message_id}:${channel}:${report.status}`,
    metadata: { status: report.status, ...(report.reason ? { reason: report.reason } : {}) },
    raw: payload,
  };
}

function inboundEvent(payload: z.infer<typeof inboundSchema>, occurredAt: Date): NormalizedEvent {
  const { message } = payload;
  const phone = e164(message.channel_identity.identity);
  const common = {
    occurredAt,
    channel: message.channel_identity.channel,
    dedupeKey: `sinch:inbound:${message.id}`,
    raw: payload,
  };
  const own = payload.correlation_id ? { messageId: payload.correlation_id } : {};
  const { text_message: text, choice_response_message: choice, ...other } = message.contact_message;
  if (choice) {
    return {
      ...common,
      event: "ACTION",
      // The choice names the message it was offered in, and Ackline's postback names the transfer.
      correlation: { ...own, providerMessageId: choice.message_id, transferId: transferIdFromPostback(choice.postback_data), phone },
      metadata: { kind: "choice_response", postback: choice.postback_data },
    };
  }
  if (text) {
    return { ...common, event: isStopReply(text.text) ? "OPT_OUT" : "REPLY", correlation: { ...own, phone }, metadata: { kind: "text", text: text.text } };
  }
  // Media, location and other contact messages: kept as they came, under their own kind.
  const [kind, content] = Object.entries(other)[0] ?? [];
  if (!kind) throw malformed("message.contact_message: empty");
  return { ...common, event: "REPLY", correlation: { ...own, phone }, metadata: { kind: kind.replace(/_message$/, ""), [kind]: content } };
}

export const sinch = webhookProvider({
  name: "sinch",
  sourceSecrets: sourceSecretsOf(["secret"], ({ secret }) => ({ sinchSecret: secret })),
  verify: (rawBody, { headers }, secrets, now) => verifySignature(rawBody, headers, secrets.sinchSecret, now),
  normalize(rawBody, _request, now): NormalizedDelivery {
    const body = parseJsonBody(rawBody, z.looseObject(envelope));
    const time = (...candidates: Array<string | undefined>) => {
      const value = candidates.find((candidate) => candidate !== undefined);
      return value === undefined ? now : parseProviderTime(value);
    };
    if ("message_delivery_report" in body) {
      const payload = parsePayload(body, deliverySchema);
      return { events: [deliveryEvent(payload, time(payload.event_time, payload.accepted_time))], templateUpdates: [] };
    }
    if ("message" in body) {
      const payload = parsePayload(body, inboundSchema);
      return { events: [inboundEvent(payload, time(payload.message.accept_time, payload.event_time, payload.accepted_time))], templateUpdates: [] };
    }
    // Another trigger the webhook is subscribed to (contact, conversation, capability …): nothing of Ackline's.
    return { events: [], templateUpdates: [] };
  },
});
