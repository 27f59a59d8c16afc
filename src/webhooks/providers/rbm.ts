import { createHmac } from "node:crypto";
import { z } from "zod";
import type { NormalizedEvent, ReceiptEventType } from "../../domain/model.js";
import {
  isStopReply,
  malformed,
  type NormalizedDelivery,
  parseJsonBody,
  parsePayload,
  parseProviderTime,
  providerId,
  refuseUnstorableJson,
  safeEqual,
  sourceSecretsOf,
  transferIdFromPostback,
  unauthorized,
  webhookProvider,
} from "../provider.js";

/*
 * Google RBM (RCS Business Messaging) agent webhooks. Each POST is a Pub/Sub push envelope whose
 * base64 `message.data` holds one agent event: a UserEvent, a UserMessage or a ServerEvent.
 * `X-Goog-Signature` = base64(HMAC-SHA512(client token, the DECODED data)): the signature covers the
 * event, not the envelope, so the envelope is read before anything is verified. Setting the webhook
 * up in Google's console POSTs `{clientToken, secret}` unsigned; it is answered with the secret as
 * plain text when the client token matches. Google signs no timestamp and retries for 7 days, so
 * replays are stopped by the dedupe keys (Google's own event identity), not by a time window.
 */

/** UserEvent.eventType → Ackline's event; null: acknowledged, nothing to store. */
const USER_EVENTS: Readonly<Record<string, ReceiptEventType | null>> = {
  DELIVERED: "DELIVERED",
  READ: "READ",
  IS_TYPING: "TYPING",
  // Documented by Google as "future": the user no longer wants the agent's non-essential messages.
  UNSUBSCRIBE: "OPT_OUT",
  SUBSCRIBE: null,
};

/** ServerEvent.eventType → Ackline's event; null: acknowledged, nothing to store. */
const SERVER_EVENTS: Readonly<Record<string, ReceiptEventType | null>> = {
  // Expired undelivered and withdrawn: Google's suggested trigger for a fallback.
  TTL_EXPIRATION_REVOKED: "REVOKED",
  // Expired but not withdrawn: it may still arrive (a DELIVERED would follow); the fallback timer decides.
  TTL_EXPIRATION_REVOKE_FAILED: null,
};

const handshakeSchema = z.object({ clientToken: z.string(), secret: z.string() });

const envelopeSchema = z.looseObject({
  message: z.looseObject({
    data: z.string().min(1),
    messageId: z.string().optional(),
    publishTime: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
  }),
  subscription: z.string().optional(),
});

const eventType = (events: Readonly<Record<string, unknown>>) =>
  z.string().refine((value) => Object.hasOwn(events, value), { error: (issue) => `unknown eventType ${JSON.stringify(issue.input)}` });

const userEventSchema = z.looseObject({
  senderPhoneNumber: z.string().min(1),
  eventType: eventType(USER_EVENTS),
  eventId: providerId,
  messageId: providerId.optional(),
  sendTime: z.string().optional(),
  agentId: z.string().optional(),
});

const serverEventSchema = z.looseObject({
  phoneNumber: z.string().min(1),
  eventType: eventType(SERVER_EVENTS),
  eventId: providerId,
  messageId: providerId,
  sendTime: z.string().optional(),
  agentId: z.string().optional(),
});

const userMessageSchema = z.looseObject({
  senderPhoneNumber: z.string().min(1),
  messageId: providerId,
  sendTime: z.string().optional(),
  agentId: z.string().optional(),
  text: z.string().optional(),
  userFile: z.record(z.string(), z.unknown()).optional(),
  location: z.record(z.string(), z.unknown()).optional(),
  suggestionResponse: z.object({ postbackData: z.string().optional(), text: z.string().optional(), type: z.string().optional() }).optional(),
});

function verifySignature(data: Buffer, signature: string | string[] | undefined, clientToken: string): void {
  if (typeof signature !== "string" || signature.length === 0) throw unauthorized("missing X-Goog-Signature");
  // Compared as canonical base64 text: Node's lenient decoder would accept trailing garbage.
  const expected = createHmac("sha512", clientToken).update(data).digest("base64");
  if (!safeEqual(Buffer.from(signature), Buffer.from(expected))) throw unauthorized("X-Goog-Signature does not match the event");
}

function decodeEvent(data: Buffer): Record<string, unknown> {
  const text = data.toString("utf8");
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    throw malformed("message.data is not base64 of a JSON agent event");
  }
  refuseUnstorableJson(text, event, "message.data");
  if (typeof event !== "object" || event === null || Array.isArray(event)) throw malformed("message.data is not an agent event object");
  return event as Record<string, unknown>;
}

/** Normalizes one agent event; null when it is acknowledged with nothing to store. */
function normalizeEvent(event: Record<string, unknown>, publishTime: string | undefined, now: Date): NormalizedEvent | null {
  const occurredAt = (sendTime: string | undefined) => {
    const time = sendTime ?? publishTime;
    return time ? parseProviderTime(time) : now;
  };
  const common = { channel: "RCS" as const, raw: event };

  if ("eventType" in event && "phoneNumber" in event) {
    const server = parsePayload(event, serverEventSchema, ["message", "data"]);
    const type = SERVER_EVENTS[server.eventType];
    if (!type) return null;
    return {
      ...common,
      event: type,
      occurredAt: occurredAt(server.sendTime),
      correlation: { providerMessageId: server.messageId },
      dedupeKey: `rbm:server:${server.eventId}`,
      metadata: { event_type: server.eventType },
    };
  }

  if ("eventType" in event) {
    const user = parsePayload(event, userEventSchema, ["message", "data"]);
    const type = USER_EVENTS[user.eventType];
    if (!type) return null;
    const receipt = user.eventType === "DELIVERED" || user.eventType === "READ";
    if (receipt && !user.messageId) throw malformed(`message.data.messageId: required for ${user.eventType}`);
    return {
      ...common,
      event: type,
      occurredAt: occurredAt(user.sendTime),
      // A receipt names the agent's message; typing and unsubscribing name only the user.
      correlation: receipt ? { providerMessageId: user.messageId } : { phone: user.senderPhoneNumber },
      // Google: events with the same (eventId, senderPhoneNumber) are duplicates.
      dedupeKey: `rbm:event:${user.senderPhoneNumber}:${user.eventId}`,
      metadata: { event_type: user.eventType },
    };
  }

  const message = parsePayload(event, userMessageSchema, ["message", "data"]);
  const phone = message.senderPhoneNumber;
  // Google: messages with the same (messageId, senderPhoneNumber) are duplicates.
  const inbound = { ...common, occurredAt: occurredAt(message.sendTime), dedupeKey: `rbm:message:${phone}:${message.messageId}` };
  if (message.suggestionResponse) {
    const { postbackData, text, type } = message.suggestionResponse;
    return {
      ...inbound,
      event: "ACTION",
      correlation: { transferId: transferIdFromPostback(postbackData), phone },
      metadata: { suggestion_type: type, postback: postbackData, text },
    };
  }
  if (message.text !== undefined) {
    return {
      ...inbound,
      event: isStopReply(message.text) ? "OPT_OUT" : "REPLY",
      correlation: { phone },
      metadata: { kind: "text", text: message.text },
    };
  }
  if (message.userFile) return { ...inbound, event: "REPLY", correlation: { phone }, metadata: { kind: "file", file: message.userFile } };
  if (message.location) return { ...inbound, event: "REPLY", correlation: { phone }, metadata: { kind: "location", location: message.location } };
  throw malformed("message.data: neither eventType (an event) nor text, userFile, location or suggestionResponse (a user message)");
}

/** The body: the console's set-up handshake, or a Pub/Sub push envelope with its decoded `message.data`. */
function readBody(rawBody: Buffer): { handshake: z.infer<typeof handshakeSchema> } | { message: z.infer<typeof envelopeSchema>["message"]; data: Buffer } {
  const body = parseJsonBody(rawBody, z.record(z.string(), z.unknown()));
  if (!("message" in body) && "clientToken" in body) return { handshake: parsePayload(body, handshakeSchema) };
  const { message } = parsePayload(body, envelopeSchema);
  return { message, data: Buffer.from(message.data, "base64") };
}

export const rbm = webhookProvider({
  name: "rbm",
  sourceSecrets: sourceSecretsOf(["clientToken"], ({ clientToken }) => ({ rbmClientToken: clientToken })),
  verify(rawBody, { headers }, secrets) {
    const clientToken = secrets.rbmClientToken;
    if (!clientToken) throw unauthorized("RBM client token is not configured");
    const body = readBody(rawBody);
    if ("handshake" in body) {
      if (!safeEqual(Buffer.from(body.handshake.clientToken), Buffer.from(clientToken))) throw unauthorized("clientToken does not match");
    } else {
      verifySignature(body.data, headers["x-goog-signature"], clientToken);
    }
  },
  normalize(rawBody, _request, now): NormalizedDelivery {
    const body = readBody(rawBody);
    if ("handshake" in body) return { events: [], templateUpdates: [], reply: { contentType: "text/plain; charset=utf-8", body: body.handshake.secret } };
    const event = normalizeEvent(decodeEvent(body.data), body.message.publishTime, now);
    return { events: event ? [event] : [], templateUpdates: [] };
  },
});
