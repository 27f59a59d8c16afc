import { createHmac } from "node:crypto";
import { z } from "zod";
import type { Channel, NormalizedEvent, ReceiptEventType } from "../../domain/model.js";
import {
  bodyHashMatches,
  isStopReply,
  malformed,
  type NormalizedDelivery,
  parseFormBody,
  parseJsonBody,
  providerId,
  safeEqual,
  sourceSecretsOf,
  transferIdFromPostback,
  unauthorized,
  webhookProvider,
  type WebhookRequest,
} from "../provider.js";

/*
 * Twilio Programmable Messaging: status callbacks and inbound messages, form-encoded, signed in
 * `X-Twilio-Signature` = base64(HMAC-SHA1(Auth Token, URL as called + each POST parameter sorted
 * by name as name+value)). A JSON-bodied webhook instead carries `bodySHA256=<hex>` in its URL: the
 * signature covers the URL alone, and the hash the body. As Twilio's own validators do, the URL is
 * tried with and without its port (Twilio is inconsistent there), and repeated parameters are
 * deduplicated and sorted.
 */

/** Twilio's MessageStatus → Ackline's event; null: acknowledged, nothing to store. */
const STATUS_EVENTS: Readonly<Record<string, ReceiptEventType | null>> = {
  // Still inside Twilio: history, below SENT (rank keeps a late one from moving anything back).
  accepted: "QUEUED",
  scheduled: "QUEUED",
  queued: "QUEUED",
  sending: "QUEUED",
  sent: "SENT",
  // Partly delivered (Twilio says no more): it left Twilio, but DELIVERED would claim too much.
  partially_delivered: "SENT",
  delivered: "DELIVERED",
  read: "READ",
  failed: "FAILED",
  undelivered: "FAILED",
  // Withdrawn before sending (a scheduled message's cancel API): the provider revoked it.
  canceled: "REVOKED",
  // An inbound MMS still arriving; its `received` webhook is the one that counts.
  receiving: null,
};

/** An incoming-message webhook is answered with TwiML: an empty Response sends nothing back. */
const NO_REPLY = { contentType: "text/xml", body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>' };

/** The parameters Ackline reads; the rest are kept in the raw payload (Twilio adds some without notice). */
const fieldsSchema = z.looseObject({
  MessageSid: providerId,
  MessageStatus: z.string().optional(),
  SmsStatus: z.string().optional(),
  From: z.string().optional(),
  To: z.string().optional(),
  ErrorCode: z.string().optional(),
  RawDlrDoneDate: z.string().optional(),
  Body: z.string().optional(),
  OptOutType: z.string().optional(),
  ButtonPayload: z.string().optional(),
  ButtonText: z.string().optional(),
});
type TwilioFields = z.infer<typeof fieldsSchema>;

function calledUrl(request: WebhookRequest): URL {
  try {
    return new URL(request.url);
  } catch {
    throw unauthorized("the URL Twilio called cannot be rebuilt from this request");
  }
}

/** The URL with and without its port: `https://host/x` is also tried as `https://host:443/x`, `https://host:8443/x` as `https://host/x`. */
function urlVariants(url: URL): string[] {
  const withPort = `${url.protocol}//${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}${url.pathname}${url.search}`;
  const withoutPort = new URL(url);
  withoutPort.port = "";
  return [withoutPort.toString(), withPort];
}

/** The signed string's parameter part: sorted by name, each distinct value of a repeated name, sorted. */
function signedParameters(form: URLSearchParams): string {
  return [...new Set(form.keys())]
    .sort()
    .map((name) => [...new Set(form.getAll(name))].sort().map((value) => name + value).join(""))
    .join("");
}

/** Verifies the signature (and, for a JSON body, its hash). */
function verifySignature(rawBody: Buffer, request: WebhookRequest, authToken: string | undefined): void {
  if (!authToken) throw unauthorized("Twilio auth token is not configured");
  const signature = Buffer.from(String(request.headers["x-twilio-signature"] ?? ""));
  if (signature.length === 0) throw unauthorized("missing X-Twilio-Signature");
  const url = calledUrl(request);
  const bodyHash = url.searchParams.get("bodySHA256");
  const signedPart = bodyHash === null ? signedParameters(new URLSearchParams(rawBody.toString("utf8"))) : "";
  const expected = (variant: string) => Buffer.from(createHmac("sha1", authToken).update(variant + signedPart, "utf8").digest("base64"));
  if (!urlVariants(url).some((variant) => safeEqual(signature, expected(variant)))) {
    throw unauthorized("X-Twilio-Signature does not match the URL and parameters");
  }
  if (bodyHash !== null && !bodyHashMatches(rawBody, bodyHash)) throw unauthorized("bodySHA256 does not match the body");
}

/** The request's fields: form-encoded, or JSON when the URL carries the body's hash. */
function fieldsOf(rawBody: Buffer, url: URL): TwilioFields {
  return url.searchParams.has("bodySHA256") ? parseJsonBody(rawBody, fieldsSchema) : parseFormBody(rawBody, fieldsSchema);
}

/** `rcs:+1555…` is RCS, a bare number SMS; other channels (`whatsapp:` …) are not Ackline's. */
function channelAddress(address: string | undefined, field: "To" | "From"): { channel: Channel; phone: string } {
  if (!address) throw malformed(`${field} is required`);
  const [, prefix, phone] = /^(?:([a-z]+):)?(.*)$/.exec(address)!;
  if (prefix === undefined) return { channel: "SMS", phone: phone! };
  if (prefix === "rcs") return { channel: "RCS", phone: phone! };
  throw malformed(`${field} is a ${prefix} address: Ackline sends RCS and SMS only`);
}

/** `RawDlrDoneDate` (YYMMDDhhmm, taken as UTC): the carrier's delivery time, to the minute. */
function carrierDoneDate(value: string | undefined): Date | undefined {
  const match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value ?? "");
  if (!match) return undefined;
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(2000 + year, month - 1, day, hour, minute));
  // Date.UTC rolls month 13 into January: only a date that reads back the same is one.
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && date.getUTCHours() === hour ? date : undefined;
}

function inboundEvent(fields: TwilioFields, now: Date): NormalizedEvent {
  const { channel, phone } = channelAddress(fields.From, "From");
  const common = { occurredAt: now, channel, dedupeKey: `twilio:${fields.MessageSid}:received`, raw: fields };
  if (fields.ButtonPayload !== undefined) {
    return {
      ...common,
      event: "ACTION",
      correlation: { transferId: transferIdFromPostback(fields.ButtonPayload), phone },
      metadata: { postback: fields.ButtonPayload, text: fields.ButtonText },
    };
  }
  const optOut = fields.OptOutType?.toUpperCase() === "STOP" || isStopReply(fields.Body);
  return {
    ...common,
    event: optOut ? "OPT_OUT" : "REPLY",
    correlation: { phone },
    metadata: { kind: "text", text: fields.Body, ...(fields.OptOutType ? { opt_out_type: fields.OptOutType } : {}) },
  };
}

export const twilio = webhookProvider({
  name: "twilio",
  sourceSecrets: sourceSecretsOf(["authToken"], ({ authToken }) => ({ twilioAuthToken: authToken })),
  verify: (rawBody, request, secrets) => verifySignature(rawBody, request, secrets.twilioAuthToken),
  normalize(rawBody, request, now): NormalizedDelivery {
    const url = calledUrl(request);
    const fields = fieldsOf(rawBody, url);
    const status = fields.MessageStatus ?? fields.SmsStatus;
    if (status === "received" || (status === undefined && (fields.Body !== undefined || fields.ButtonPayload !== undefined))) {
      return { events: [inboundEvent(fields, now)], templateUpdates: [], reply: NO_REPLY };
    }
    if (status === undefined) throw malformed("MessageStatus is required (or Body, for an inbound message)");
    if (!Object.hasOwn(STATUS_EVENTS, status)) throw malformed(`unknown MessageStatus ${JSON.stringify(status)}`);
    const event = STATUS_EVENTS[status];
    if (!event) return { events: [], templateUpdates: [] };
    // The adapter put Ackline's id in the signed callback URL: it finds the message even if its SID was never recorded.
    const clientMessageId = url.searchParams.get("client_message_id");
    return {
      events: [
        {
          event,
          // Status callbacks carry no event time but this one, for SMS delivered/undelivered.
          occurredAt: carrierDoneDate(fields.RawDlrDoneDate) ?? now,
          channel: channelAddress(fields.To, "To").channel,
          correlation: { providerMessageId: fields.MessageSid, ...(clientMessageId ? { messageId: clientMessageId } : {}) },
          // Twilio retries identical callbacks; each status of a message is sent once.
          dedupeKey: `twilio:${fields.MessageSid}:${status}`,
          metadata: { status, ...(fields.ErrorCode ? { error_code: fields.ErrorCode } : {}) },
          raw: fields,
        },
      ],
      templateUpdates: [],
    };
  },
});
