import { z } from "zod";
import type { NormalizedEvent } from "../../domain/model.js";
import {
  basicSourceSecrets,
  isStopReply,
  malformed,
  type NormalizedDelivery,
  parseJsonBody,
  parseProviderTime,
  providerId,
  transferIdFromPostback,
  verifyBasic,
  webhookProvider,
} from "../provider.js";

/** EnableX RCS: one JSON notification per POST, routed by `type`; HTTP Basic auth. */
const base = z.object({ agent: z.string().optional(), timestamp: z.string() });
const inbound = base.extend({ phone: z.string().min(1), request_id: providerId, session_id: z.string().optional() });

const payloadSchema = z.discriminatedUnion(
  "type",
  [
    base.extend({
      type: z.literal("message"),
      phone: z.string().optional(),
      message: z.object({
        message_id: providerId,
        status: z.enum(["SENT", "DELIVERED", "READ", "FAILED", "REVOKED"]),
        failure_reason: z.string().optional(),
      }),
    }),
    inbound.extend({ type: z.literal("text"), text: z.string() }),
    inbound.extend({ type: z.literal("file"), file: z.object({ media: z.string() }).passthrough() }),
    inbound.extend({ type: z.literal("location"), location: z.object({ latitude: z.string(), longitude: z.string() }) }),
    inbound.extend({
      type: z.literal("suggestion"),
      suggestion: z.object({ type: z.string(), postback: z.string().optional(), text: z.string().optional() }),
    }),
    base.extend({ type: z.literal("typing"), phone: z.string().min(1), message_id: providerId.optional() }),
    base.extend({
      type: z.literal("template"),
      template: z.object({ name: z.string().min(1), status: z.enum(["approved", "rejected"]), type: z.string().optional(), comment: z.string().optional() }),
    }),
  ],
  { error: (issue) => (issue.code === "invalid_union" ? "type must be text, file, message, template, suggestion, location or typing" : undefined) },
);

export const enablex = webhookProvider({
  name: "enablex",
  sourceSecrets: basicSourceSecrets((enablexBasic) => ({ enablexBasic })),
  verify(_rawBody, { headers }, secrets) {
    verifyBasic(headers.authorization, secrets.enablexBasic, "EnableX");
  },
  normalize(rawBody): NormalizedDelivery {
    const payload = parseJsonBody(rawBody, payloadSchema);
    const occurredAt = parseProviderTime(payload.timestamp);
    const common = { occurredAt, channel: "RCS" as const, raw: payload };
    const event = (fields: Omit<NormalizedEvent, keyof typeof common>): NormalizedDelivery => ({
      events: [{ ...common, ...fields }],
      templateUpdates: [],
    });

    switch (payload.type) {
      case "message":
        return event({
          event: payload.message.status,
          correlation: { providerMessageId: payload.message.message_id },
          dedupeKey: `enablex:${payload.message.message_id}:${payload.message.status}:${occurredAt.toISOString()}`,
          metadata: payload.message.failure_reason ? { failure_reason: payload.message.failure_reason } : {},
        });
      case "text":
      case "file":
      case "location": {
        const { agent: _agent, phone, request_id, session_id, type, timestamp: _timestamp, ...content } = payload;
        // A STOP reply is the recipient opting out, not a conversation.
        const optOut = payload.type === "text" && isStopReply(payload.text);
        return event({
          event: optOut ? "OPT_OUT" : "REPLY",
          correlation: { phone },
          dedupeKey: `enablex:${request_id}`,
          metadata: { kind: type, session_id, ...content },
        });
      }
      case "suggestion":
        return event({
          event: "ACTION",
          correlation: { transferId: transferIdFromPostback(payload.suggestion.postback), phone: payload.phone },
          dedupeKey: `enablex:${payload.request_id}`,
          metadata: { suggestion_type: payload.suggestion.type, postback: payload.suggestion.postback, text: payload.suggestion.text },
        });
      case "typing":
        return event({
          event: "TYPING",
          correlation: { providerMessageId: payload.message_id, phone: payload.phone },
          dedupeKey: `enablex:typing:${payload.phone}:${payload.message_id ?? ""}:${occurredAt.toISOString()}`,
          metadata: {},
        });
      case "template":
        return {
          events: [],
          templateUpdates: [
            {
              provider: "enablex",
              name: payload.template.name,
              status: payload.template.status === "approved" ? "APPROVED" : "REJECTED",
              comment: payload.template.comment,
              occurredAt,
              raw: payload,
            },
          ],
        };
      default:
        throw malformed("unsupported EnableX notification type");
    }
  },
});
