import { z } from "zod";
import type { NormalizedEvent, ReceiptEventType } from "../../domain/model.js";
import {
  basicSourceSecrets,
  e164,
  isStopReply,
  malformed,
  type NormalizedDelivery,
  parseJsonBody,
  parsePayload,
  parseProviderTime,
  phoneChannelSchema,
  providerId,
  transferIdFromPostback,
  verifyBasic,
  webhookProvider,
} from "../provider.js";

/*
 * Infobip RCS and SMS webhooks, HTTP Basic auth (the subscription's BASIC security setting). Every
 * kind arrives batched as `{"results": [...]}`, one event per item: delivery reports (`status` and
 * `error` objects, grouped), seen reports (`seenAt`), RCS typing indicators (`event`), inbound RCS
 * (`message`) and inbound SMS (`text`). Infobip writes numbers without the `+`. A `callbackData`
 * given at send comes back on the delivery report: it carries Ackline's message id.
 */

/** Infobip's status groups (`status.groupId`) → Ackline's event. */
const STATUS_GROUPS: Readonly<Record<number, ReceiptEventType>> = {
  // PENDING: processed and forwarded (to the operator, the RCS platform), delivery not yet confirmed.
  1: "SENT",
  2: "FAILED", // UNDELIVERABLE
  3: "DELIVERED",
  // EXPIRED: no delivery confirmed within the validity period (48 h by default).
  4: "FAILED",
  5: "FAILED", // REJECTED, by Infobip or the operator
};

const channel = phoneChannelSchema.optional();

const deliveryReportSchema = z.looseObject({
  messageId: providerId,
  channel,
  doneAt: z.string().optional(),
  mccMnc: z.string().optional(),
  callbackData: z.string().optional(),
  status: z.looseObject({
    groupId: z.number().refine((id) => Object.hasOwn(STATUS_GROUPS, id), { error: (issue) => `unknown status group ${JSON.stringify(issue.input)}` }),
    groupName: z.string().optional(),
    name: z.string().min(1),
    description: z.string().optional(),
  }),
  error: z.looseObject({ id: z.number(), groupName: z.string().optional(), name: z.string().optional(), description: z.string().optional(), permanent: z.boolean().optional() }).optional(),
});

const seenReportSchema = z.looseObject({ messageId: providerId, seenAt: z.string(), channel });

const typingSchema = z.looseObject({ sender: z.string().min(1), receivedAt: z.string(), event: z.looseObject({ type: z.literal("TYPING_INDICATOR") }) });

const rcsInboundSchema = z.looseObject({
  messageId: providerId,
  sender: z.string().min(1),
  receivedAt: z.string(),
  message: z.looseObject({ type: z.string().min(1), text: z.string().optional(), postbackData: z.string().optional() }),
});

const smsInboundSchema = z.looseObject({ messageId: providerId, from: z.string().min(1), receivedAt: z.string(), text: z.string() });

const bodySchema = z.looseObject({ results: z.array(z.record(z.string(), z.unknown())) });

/** Normalizes one item of `results`, recognized by the fields only its kind carries. */
function normalize(result: Record<string, unknown>, path: Array<string | number>, now: Date): NormalizedEvent {
  if ("status" in result) {
    const report = parsePayload(result, deliveryReportSchema, path);
    const hasError = report.error !== undefined && report.error.id !== 0;
    return {
      event: STATUS_GROUPS[report.status.groupId]!,
      occurredAt: report.doneAt ? parseProviderTime(report.doneAt) : now,
      channel: report.channel,
      correlation: { providerMessageId: report.messageId, ...(report.callbackData ? { messageId: report.callbackData } : {}) },
      dedupeKey: `infobip:${report.messageId}:${report.status.name}`,
      carrier: report.mccMnc,
      metadata: {
        status: report.status.name,
        status_group: report.status.groupName,
        ...(hasError ? { error: report.error } : {}),
      },
      raw: result,
    };
  }
  if ("seenAt" in result) {
    const seen = parsePayload(result, seenReportSchema, path);
    return {
      event: "READ",
      occurredAt: parseProviderTime(seen.seenAt),
      channel: seen.channel ?? "RCS",
      correlation: { providerMessageId: seen.messageId },
      dedupeKey: `infobip:${seen.messageId}:seen`,
      metadata: {},
      raw: result,
    };
  }
  if ("event" in result) {
    const typing = parsePayload(result, typingSchema, path);
    return {
      event: "TYPING",
      occurredAt: parseProviderTime(typing.receivedAt),
      channel: "RCS",
      correlation: { phone: e164(typing.sender) },
      // Typing carries no id: sender and time tell one indicator from the next.
      dedupeKey: `infobip:typing:${typing.sender}:${typing.receivedAt}`,
      metadata: {},
      raw: result,
    };
  }
  if ("message" in result) {
    const inbound = parsePayload(result, rcsInboundSchema, path);
    const common = { occurredAt: parseProviderTime(inbound.receivedAt), channel: "RCS" as const, dedupeKey: `infobip:inbound:${inbound.messageId}`, raw: result };
    const phone = e164(inbound.sender);
    const { type, text, postbackData } = inbound.message;
    if (type === "SUGGESTION") {
      return { ...common, event: "ACTION", correlation: { transferId: transferIdFromPostback(postbackData), phone }, metadata: { postback: postbackData, text } };
    }
    const { type: _type, ...content } = inbound.message;
    const optOut = type === "TEXT" && isStopReply(text);
    return { ...common, event: optOut ? "OPT_OUT" : "REPLY", correlation: { phone }, metadata: { kind: type.toLowerCase(), ...content } };
  }
  if ("text" in result) {
    const sms = parsePayload(result, smsInboundSchema, path);
    return {
      occurredAt: parseProviderTime(sms.receivedAt),
      channel: "SMS",
      event: isStopReply(sms.text) ? "OPT_OUT" : "REPLY",
      correlation: { phone: e164(sms.from) },
      dedupeKey: `infobip:inbound:${sms.messageId}`,
      metadata: { kind: "text", text: sms.text },
      raw: result,
    };
  }
  throw malformed(`${path.join(".")}: neither a delivery report (status), a seen report (seenAt), a typing indicator (event) nor an inbound message (message, text)`);
}

export const infobip = webhookProvider({
  name: "infobip",
  sourceSecrets: basicSourceSecrets((infobipBasic) => ({ infobipBasic })),
  verify: (_rawBody, { headers }, secrets) => verifyBasic(headers.authorization, secrets.infobipBasic, "Infobip"),
  normalize(rawBody, _request, now): NormalizedDelivery {
    const { results } = parseJsonBody(rawBody, bodySchema);
    return { events: results.map((result, index) => normalize(result, ["results", index], now)), templateUpdates: [] };
  },
});
