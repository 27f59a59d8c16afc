import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { CHANNELS, RECEIPT_EVENT_TYPES, type Channel, type ReceiptEventType } from "../../domain/model.js";
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
  verifyFreshTimestamp,
  webhookProvider,
} from "../provider.js";

/** Standard Webhooks v1: HMAC-SHA256 over `id.timestamp.body`, ±5 minutes, carrying the canonical event. */

const payloadSchema = z.object({
  transfer_id: providerId,
  message_id: providerId,
  channel: z.string().transform((value, ctx) => {
    const upper = value.toUpperCase();
    if (!(CHANNELS as readonly string[]).includes(upper)) ctx.addIssue({ code: "custom", message: `unknown channel ${value}` });
    return upper as Channel;
  }),
  event: z.string().transform((value, ctx) => {
    const upper = value.toUpperCase();
    if (!(RECEIPT_EVENT_TYPES as readonly string[]).includes(upper)) ctx.addIssue({ code: "custom", message: `unknown event ${value}` });
    return upper as ReceiptEventType;
  }),
  timestamp: z.union([z.string(), z.number()]),
  provider: providerId,
  metadata: z.record(z.string(), z.unknown()).optional(),
});

/** Verifies a Standard Webhooks v1 signature; exported for the official test vectors. */
export function verifyStandardSignature(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  rawBody: Buffer,
  now: Date,
): void {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature) throw unauthorized("missing webhook-id, webhook-timestamp or webhook-signature");
  verifyFreshTimestamp(timestamp, now, "webhook-timestamp");
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  // Compared as canonical base64 text: Node's lenient decoder would accept trailing garbage.
  const expected = Buffer.from(hmacSha256(key, Buffer.concat([Buffer.from(`${id}.${timestamp}.`), rawBody])).toString("base64"));
  const matches = signature.split(" ").some((entry) => {
    const [version, mac] = entry.split(",", 2);
    return version === "v1" && mac !== undefined && safeEqual(Buffer.from(mac), expected);
  });
  if (!matches) throw unauthorized("no webhook-signature entry matches");
}

const webhookId = (headers: IncomingHttpHeaders) => String(headers["webhook-id"] ?? "");

export const standard = webhookProvider({
  name: "standard",
  sourceSecrets: sourceSecretsOf(["secret"], ({ secret }) => ({ standard: secret })),
  // The message id is the event's identity (its dedupe key).
  normalizedHeaders: ["webhook-id"],
  verify(rawBody, { headers }, secrets, now) {
    if (!secrets.standard) throw unauthorized("Standard Webhooks secret is not configured");
    verifyStandardSignature(
      secrets.standard,
      { id: webhookId(headers), timestamp: String(headers["webhook-timestamp"] ?? ""), signature: String(headers["webhook-signature"] ?? "") },
      rawBody,
      now,
    );
  },
  normalize(rawBody, { headers }): NormalizedDelivery {
    const id = webhookId(headers);
    if (!id) throw malformed("webhook-id is required");
    const payload = parseJsonBody(rawBody, payloadSchema);
    return {
      events: [
        {
          event: payload.event,
          occurredAt: parseProviderTime(payload.timestamp),
          provider: payload.provider,
          channel: payload.channel,
          correlation: { messageId: payload.message_id, transferId: payload.transfer_id },
          dedupeKey: `standard:${id}`,
          carrier: typeof payload.metadata?.carrier_status === "string" ? payload.metadata.carrier_status : undefined,
          metadata: payload.metadata ?? {},
          raw: payload,
        },
      ],
      templateUpdates: [],
    };
  },
});
