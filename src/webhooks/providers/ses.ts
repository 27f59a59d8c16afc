import { verify } from "node:crypto";
import { z } from "zod";
import { messageIdFromEmailMessageId } from "../../domain/email-message-id.js";
import type { NormalizedEvent, ReceiptEventType } from "../../domain/model.js";
import {
  malformed,
  type NormalizedDelivery,
  type Verification,
  parseJsonBody,
  parsePayload,
  parseProviderTime,
  providerId,
  refuseUnstorableJson,
  requireFresh,
  sourceSecretsOf,
  unauthorized,
  webhookProvider,
} from "../provider.js";
import { snsCertificates, snsUrl } from "../sns-certificates.js";

/*
 * Amazon SES notifications through SNS. The SNS envelope is signed (SignatureVersion 1: RSA-SHA1,
 * 2: RSA-SHA256) over its fields as "Name\nvalue\n" in a fixed order, with the certificate at
 * SigningCertURL (an SNS host only). Only the configured topic is accepted; its
 * SubscriptionConfirmation yields the SubscribeURL to visit. Each Notification carries one SES
 * event, as configuration-set event publishing (`eventType`) or identity notifications
 * (`notificationType`) write it, and becomes one event per recipient.
 */

/** SNS keeps its signed Timestamp through its retries; a day covers any delivery policy. */
const MAX_MESSAGE_AGE_SECONDS = 24 * 60 * 60;

/** The fields each message type signs, in signing order (absent optional ones are skipped). */
const SIGNED_FIELDS = {
  Notification: ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
  SubscriptionConfirmation: ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
  UnsubscribeConfirmation: ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
} as const;

const DIGESTS: Readonly<Record<string, string>> = { "1": "sha1", "2": "sha256" };

/** What SES publishes to a topic once it is set up: a plain string (event publishing) or a notification without mail. */
const SETUP_MESSAGE = "Successfully validated SNS topic for Amazon SES event publishing.";
const SETUP_NOTIFICATION = "AmazonSnsSubscriptionSucceeded";

const signed = {
  MessageId: providerId,
  TopicArn: z.string().min(1),
  Message: z.string(),
  Timestamp: z.string().min(1),
  SignatureVersion: z.string(),
  Signature: z.string().min(1),
  SigningCertURL: z.string(),
};
const envelopeSchema = z.discriminatedUnion("Type", [
  z.looseObject({ Type: z.literal("Notification"), Subject: z.string().nullish(), ...signed }),
  z.looseObject({ Type: z.enum(["SubscriptionConfirmation", "UnsubscribeConfirmation"]), SubscribeURL: z.string(), Token: z.string(), ...signed }),
]);
type Envelope = z.infer<typeof envelopeSchema>;

/** SES's recipient objects, read as their addresses. */
const addresses = z.array(z.looseObject({ emailAddress: z.string() }).transform((recipient) => recipient.emailAddress));

const sesEventSchema = z.looseObject({
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  mail: z.looseObject({
    messageId: providerId,
    timestamp: z.string(),
    destination: z.array(z.string()).default([]),
    commonHeaders: z.looseObject({ messageId: providerId.optional() }).optional(),
  }),
  bounce: z
    .looseObject({ bounceType: z.string(), bounceSubType: z.string().optional(), bouncedRecipients: addresses, timestamp: z.string() })
    .optional(),
  complaint: z.looseObject({ complainedRecipients: addresses, complaintFeedbackType: z.string().optional(), timestamp: z.string() }).optional(),
  delivery: z.looseObject({ recipients: z.array(z.string()), smtpResponse: z.string().optional(), timestamp: z.string() }).optional(),
  deliveryDelay: z.looseObject({ delayType: z.string().optional(), delayedRecipients: addresses, timestamp: z.string() }).optional(),
  open: z.looseObject({ timestamp: z.string() }).optional(),
  click: z.looseObject({ link: z.string().optional(), timestamp: z.string() }).optional(),
  reject: z.looseObject({ reason: z.string().optional() }).optional(),
  failure: z.looseObject({ errorMessage: z.string().optional() }).optional(),
  subscription: z
    .looseObject({
      timestamp: z.string(),
      newTopicPreferences: z
        .looseObject({
          unsubscribeAll: z.boolean().optional(),
          topicSubscriptionStatus: z.array(z.looseObject({ subscriptionStatus: z.string() })).optional(),
        })
        .optional(),
    })
    .optional(),
});
type SesEvent = z.infer<typeof sesEventSchema>;

/** One SES event, normalized: what it is, when, for whom (default: every destination), and what it adds. */
interface SesOutcome {
  event: ReceiptEventType;
  at?: string;
  recipients?: string[];
  metadata?: Record<string, unknown>;
}

/** The SES event's own detail object, or a 400 naming what is missing. */
function detail<Key extends keyof SesEvent>(ses: SesEvent, key: Key): NonNullable<SesEvent[Key]> {
  const value = ses[key];
  if (value === undefined || value === null) throw malformed(`Message: a ${String(key)} event needs its ${String(key)} object`);
  return value;
}

/** SES's event → Ackline's; null: acknowledged, nothing to store. */
function outcomeOf(type: string, ses: SesEvent): SesOutcome | null {
  switch (type) {
    case "Send":
      return { event: "SENT" };
    case "Delivery": {
      const { recipients, timestamp, smtpResponse } = detail(ses, "delivery");
      return { event: "DELIVERED", at: timestamp, recipients, metadata: { smtp_response: smtpResponse } };
    }
    case "DeliveryDelay": {
      // History: SES keeps trying.
      const { delayedRecipients, timestamp, delayType } = detail(ses, "deliveryDelay");
      return { event: "QUEUED", at: timestamp, recipients: delayedRecipients, metadata: { delay_type: delayType } };
    }
    case "Open":
      return { event: "READ", at: detail(ses, "open").timestamp };
    case "Click": {
      const { timestamp, link } = detail(ses, "click");
      return { event: "ACTION", at: timestamp, metadata: { url: link } };
    }
    case "Bounce": {
      // Permanent (a hard bounce) suppresses the address; Transient and Undetermined fail this message only.
      const { bouncedRecipients, timestamp, bounceType, bounceSubType } = detail(ses, "bounce");
      return { event: "FAILED", at: timestamp, recipients: bouncedRecipients, metadata: { bounce_type: bounceType.toLowerCase(), bounce_sub_type: bounceSubType } };
    }
    case "Complaint": {
      const { complainedRecipients, timestamp, complaintFeedbackType } = detail(ses, "complaint");
      return { event: "COMPLAINT", at: timestamp, recipients: complainedRecipients, metadata: { feedback_type: complaintFeedbackType } };
    }
    case "Reject":
      return { event: "FAILED", metadata: { reason: ses.reject?.reason } };
    case "Rendering Failure":
      return { event: "FAILED", metadata: { reason: ses.failure?.errorMessage } };
    case "Subscription": {
      // SES's own list management: unsubscribing from everything, or from a topic, is an opt-out.
      const { timestamp, newTopicPreferences: preferences } = detail(ses, "subscription");
      const optedOut = preferences?.unsubscribeAll === true || preferences?.topicSubscriptionStatus?.some((topic) => topic.subscriptionStatus === "OptOut");
      return optedOut ? { event: "OPT_OUT", at: timestamp } : null;
    }
    default:
      throw malformed(`Message: unknown SES event type ${JSON.stringify(type)}`);
  }
}

async function verifySignature(envelope: Envelope): Promise<void> {
  const digest = DIGESTS[envelope.SignatureVersion];
  if (!digest) throw unauthorized(`SignatureVersion ${JSON.stringify(envelope.SignatureVersion)} is not 1 or 2`);
  const key = await snsCertificates.publicKey(envelope.SigningCertURL);
  const fields = envelope as unknown as Readonly<Record<string, unknown>>;
  const signedString = SIGNED_FIELDS[envelope.Type]
    .filter((name) => typeof fields[name] === "string")
    .map((name) => `${name}\n${fields[name] as string}\n`)
    .join("");
  if (!verify(digest, Buffer.from(signedString, "utf8"), key, Buffer.from(envelope.Signature, "base64"))) {
    throw unauthorized("SNS signature does not match");
  }
}

/** The SubscribeURL, only as SNS's own ConfirmSubscription call for this very topic, in its region. */
function subscribeUrl(envelope: Envelope & { SubscribeURL: string }): string {
  const url = snsUrl(envelope.SubscribeURL);
  const region = envelope.TopicArn.split(":")[3];
  const confirmsThisTopic = (url: URL) =>
    url.hostname.split(".")[1] === region &&
    url.searchParams.get("Action") === "ConfirmSubscription" &&
    url.searchParams.get("TopicArn") === envelope.TopicArn;
  if (!url || !confirmsThisTopic(url)) throw malformed("SubscribeURL is not SNS's ConfirmSubscription for this topic");
  return url.href;
}

/** The SES event in a notification, read and as sent; undefined for SES's set-up notices. */
function parseSesEvent(message: string): { ses: SesEvent; raw: unknown } | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch {
    if (message.trim() === SETUP_MESSAGE) return undefined;
    throw malformed("Message is not an SES event");
  }
  refuseUnstorableJson(message, raw, "Message");
  if ((raw as { notificationType?: unknown } | null)?.notificationType === SETUP_NOTIFICATION) return undefined;
  return { ses: parsePayload(raw, sesEventSchema), raw };
}

function eventsOf(envelope: Envelope): NormalizedEvent[] {
  const parsed = parseSesEvent(envelope.Message);
  if (!parsed) return [];
  const { ses, raw } = parsed;
  const type = ses.eventType ?? ses.notificationType;
  if (!type) throw malformed("Message: neither eventType nor notificationType");
  const outcome = outcomeOf(type, ses);
  if (!outcome) return [];
  const occurredAt = parseProviderTime(outcome.at ?? ses.mail.timestamp);
  const ownId = messageIdFromEmailMessageId(ses.mail.commonHeaders?.messageId);
  const correlation = { providerMessageId: ses.mail.messageId, ...(ownId ? { messageId: ownId } : {}) };
  // Ackline sends each email copy to one recipient; a notification covering several is one event each.
  return (outcome.recipients ?? ses.mail.destination).map((recipient) => ({
    event: outcome.event,
    occurredAt,
    channel: "EMAIL",
    correlation,
    // SNS's id for the notification, which its retries keep.
    dedupeKey: `ses:${envelope.MessageId}:${recipient}`,
    metadata: { event_type: type, recipient, ...outcome.metadata },
    raw,
  }));
}

export const ses = webhookProvider({
  name: "ses",
  sourceSecrets: sourceSecretsOf(["topicArn"], ({ topicArn }) => ({ sesTopicArn: topicArn })),
  async verify(rawBody, { headers }, secrets, now): Promise<Verification> {
    if (!secrets.sesTopicArn) throw unauthorized("SES topic ARN is not configured");
    const envelope = parseJsonBody(rawBody, envelopeSchema);
    if (headers["x-amz-sns-message-type"] !== envelope.Type) throw malformed("x-amz-sns-message-type does not match the body's Type");
    // Checked before the signature too, so a stranger's topic costs no certificate download.
    if (envelope.TopicArn !== secrets.sesTopicArn) throw unauthorized(`topic ${envelope.TopicArn} is not this door's`);
    await verifySignature(envelope);
    requireFresh(parseProviderTime(envelope.Timestamp), now, MAX_MESSAGE_AGE_SECONDS, "SNS Timestamp");
    return envelope.Type === "SubscriptionConfirmation" ? { confirmSubscription: subscribeUrl(envelope) } : {};
  },
  normalize(rawBody): NormalizedDelivery {
    const envelope = parseJsonBody(rawBody, envelopeSchema);
    // Confirmations carry no event: the door confirms a subscription, a replay has nothing to store.
    return { events: envelope.Type === "Notification" ? eventsOf(envelope) : [], templateUpdates: [] };
  },
});
