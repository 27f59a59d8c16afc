import { z } from "zod";
import type { Channel, ReceiptEventType } from "../../domain/model.js";
import {
  hmacSha256,
  malformed,
  type NormalizedDelivery,
  parseJsonBody,
  parseProviderTime,
  providerId,
  safeEqual,
  sourceSecretsOf,
  unauthorized,
  webhookProvider,
} from "../provider.js";

/** The common CPaaS format (the seed's): hex HMAC-SHA256 of the raw body in `X-Webhook-Signature`. */
const MESSAGE_EVENTS: Record<string, ReceiptEventType> = {
  "message.queued": "QUEUED",
  "message.sent": "SENT",
  "message.delivered": "DELIVERED",
  "message.read": "READ",
  "message.failed": "FAILED",
  "message.clicked": "ACTION",
  "message.replied": "REPLY",
  "message.optout": "OPT_OUT",
  "message.complained": "COMPLAINT",
};
const TEMPLATE_EVENTS = { "template.approved": "APPROVED", "template.rejected": "REJECTED" } as const;

const payloadSchema = z.object({
  event: z.enum([...Object.keys(MESSAGE_EVENTS), ...Object.keys(TEMPLATE_EVENTS)] as [string, ...string[]], {
    error: (issue) => `unknown event ${JSON.stringify(issue.input)}`,
  }),
  timestamp: z.union([z.string(), z.number()]),
  message_id: providerId.optional(),
  template_id: providerId.optional(),
  recipient: z.string().optional(),
  channel: z.enum(["rcs", "sms", "email"]).optional(),
  carrier: z.string().optional(),
  region: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export const generic = webhookProvider({
  name: "generic",
  sourceSecrets: sourceSecretsOf(["secret"], ({ secret }) => ({ generic: secret })),
  verify(rawBody, { headers }, secrets) {
    if (!secrets.generic) throw unauthorized("generic webhook secret is not configured");
    const signature = String(headers["x-webhook-signature"] ?? "");
    if (!/^[0-9a-fA-F]{64}$/.test(signature)) throw unauthorized("missing or malformed X-Webhook-Signature");
    if (!safeEqual(Buffer.from(signature, "hex"), hmacSha256(secrets.generic, rawBody))) {
      throw unauthorized("signature does not match");
    }
  },
  normalize(rawBody): NormalizedDelivery {
    const payload = parseJsonBody(rawBody, payloadSchema);
    const occurredAt = parseProviderTime(payload.timestamp);
    if (payload.event in TEMPLATE_EVENTS) {
      const fromMetadata = payload.metadata?.template_id;
      const name = payload.template_id ?? (typeof fromMetadata === "string" ? fromMetadata : undefined);
      if (!name) throw malformed("template events need template_id");
      const status = TEMPLATE_EVENTS[payload.event as keyof typeof TEMPLATE_EVENTS];
      const comment = payload.metadata?.comment;
      return {
        events: [],
        templateUpdates: [{ provider: "generic", name, status, comment: typeof comment === "string" ? comment : undefined, occurredAt, raw: payload }],
      };
    }
    if (!payload.message_id) throw malformed("message_id is required for message events");
    const event = MESSAGE_EVENTS[payload.event]!;
    return {
      events: [
        {
          event,
          occurredAt,
          channel: payload.channel?.toUpperCase() as Channel | undefined,
          correlation: { providerMessageId: payload.message_id },
          // The format has no event id: a retry repeats all three, a second click does not.
          dedupeKey: `generic:${payload.message_id}:${payload.event}:${occurredAt.toISOString()}`,
          carrier: payload.carrier,
          region: payload.region ?? (typeof payload.metadata?.region === "string" ? payload.metadata.region : undefined),
          metadata: { ...payload.metadata, ...(payload.recipient ? { recipient: payload.recipient } : {}) },
          raw: payload,
        },
      ],
      templateUpdates: [],
    };
  },
});
