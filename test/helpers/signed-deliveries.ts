import { createHash, generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";
import { mailgunBody, mailgunSignature, sendgridHeaders } from "./email-webhooks.js";
import { type SnsSigner, snsNotification } from "./sns.js";
import { basicAuthorization, genericSignature, rbmEnvelope, rbmSignature, sinchHeaders, standardHeaders, twilioSignature, vonageAuthorization } from "./webhooks.js";

/** A delivery as a provider would send it: the body and the headers that sign it. */
export interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
}

/**
 * For every door: the secrets a tenant gives a source of that provider (distinct per `seed`), and
 * a valid delivery those secrets sign for a URL. The deliveries name messages nobody sent: they
 * are accepted and kept unmatched.
 */
export interface ProviderFixture {
  provider: string;
  secrets(seed: string): Record<string, string>;
  sign(url: string, secrets: Record<string, string>): SignedDelivery | Promise<SignedDelivery>;
}

const derived = (seed: string, purpose: string) => createHash("sha256").update(`${purpose}:${seed}`).digest();
const json = (value: unknown, headers: Record<string, string>): SignedDelivery => ({ body: JSON.stringify(value), headers });
const now = () => new Date().toISOString();

export function providerFixtures(snsSigner: SnsSigner): ProviderFixture[] {
  const sendgridKeys = new Map<string, KeyObject>();
  return [
    {
      provider: "generic",
      secrets: (seed) => ({ secret: derived(seed, "generic").toString("hex") }),
      sign: (_url, { secret }) => {
        const body = JSON.stringify({ event: "message.delivered", timestamp: now(), message_id: `pm_${randomUUID()}` });
        return { body, headers: { "x-webhook-signature": genericSignature(body, secret) } };
      },
    },
    {
      provider: "enablex",
      secrets: (seed) => ({ username: "enablex", password: derived(seed, "enablex").toString("hex") }),
      sign: (_url, { username, password }) =>
        json(
          { phone: "+14165550100", type: "message", message: { message_id: `pm_${randomUUID()}`, status: "DELIVERED" }, timestamp: now() },
          { authorization: basicAuthorization(`${username}:${password}`) },
        ),
    },
    {
      provider: "standard",
      secrets: (seed) => ({ secret: `whsec_${derived(seed, "standard").subarray(0, 24).toString("base64")}` }),
      sign: (_url, { secret }) => {
        const body = JSON.stringify({ transfer_id: "tx_none", message_id: "msg_none", channel: "rcs", event: "delivered", timestamp: now(), provider: "p" });
        return { body, headers: standardHeaders(`msg_${randomUUID()}`, body, { secret }) };
      },
    },
    {
      provider: "twilio",
      secrets: (seed) => ({ authToken: derived(seed, "twilio").toString("hex") }),
      sign: (url, { authToken }) => {
        const params = { MessageSid: `SM${randomUUID().replaceAll("-", "")}`, MessageStatus: "delivered", To: "+14165550100" };
        return {
          body: new URLSearchParams(params).toString(),
          headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilioSignature(url, params, authToken) },
        };
      },
    },
    {
      provider: "vonage",
      secrets: (seed) => ({ signatureSecret: derived(seed, "vonage").toString("hex") }),
      sign: async (_url, { signatureSecret }) => {
        const body = JSON.stringify({ message_uuid: randomUUID(), timestamp: now(), status: "delivered", channel: "sms" });
        return { body, headers: { authorization: await vonageAuthorization(body, { secret: signatureSecret }) } };
      },
    },
    {
      provider: "rbm",
      secrets: (seed) => ({ clientToken: derived(seed, "rbm").toString("hex").slice(0, 16).toUpperCase() }),
      sign: (_url, { clientToken }) => {
        const { body, data } = rbmEnvelope({ senderPhoneNumber: "+14165550100", eventType: "DELIVERED", eventId: randomUUID(), messageId: `pm_${randomUUID()}` });
        return { body, headers: { "x-goog-signature": rbmSignature(data, clientToken) } };
      },
    },
    {
      provider: "sinch",
      secrets: (seed) => ({ secret: derived(seed, "sinch").toString("hex") }),
      sign: (_url, { secret }) => {
        const body = JSON.stringify({
          app_id: "app",
          message_delivery_report: { message_id: `pm_${randomUUID()}`, status: "DELIVERED", channel_identity: { channel: "RCS", identity: "14165550100" } },
        });
        return { body, headers: sinchHeaders(body, { secret }) };
      },
    },
    {
      provider: "infobip",
      secrets: (seed) => ({ username: "infobip", password: derived(seed, "infobip").toString("hex") }),
      sign: (_url, { username, password }) =>
        json(
          { results: [{ messageId: `pm_${randomUUID()}`, status: { groupId: 3, groupName: "DELIVERED", id: 5, name: "DELIVERED_TO_HANDSET" } }] },
          { authorization: basicAuthorization(`${username}:${password}`) },
        ),
    },
    {
      provider: "sendgrid",
      // A key pair per source: the seed cannot derive an EC key, so each call makes a new one.
      secrets: () => {
        const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
        const encoded = publicKey.export({ type: "spki", format: "der" }).toString("base64");
        sendgridKeys.set(encoded, privateKey);
        return { publicKey: encoded };
      },
      sign: (_url, { publicKey }) => {
        const body = JSON.stringify([
          { email: "someone@example.com", timestamp: Math.floor(Date.now() / 1000), event: "delivered", sg_event_id: randomUUID(), sg_message_id: `${randomUUID()}.filter` },
        ]);
        return { body, headers: sendgridHeaders(body, { privateKey: sendgridKeys.get(publicKey!)! }) };
      },
    },
    {
      provider: "mailgun",
      secrets: (seed) => ({ signingKey: derived(seed, "mailgun").toString("hex") }),
      sign: (_url, { signingKey }) => ({
        body: mailgunBody(
          { id: randomUUID(), event: "delivered", timestamp: Date.now() / 1000, recipient: "someone@example.com", message: { headers: { "message-id": `${randomUUID()}@example.org` } } },
          mailgunSignature({ key: signingKey }),
        ),
        headers: {},
      }),
    },
    {
      provider: "ses",
      // The topic is what SES's door checks; SNS's signature is AWS's, the same for every tenant.
      secrets: (seed) => ({ topicArn: `arn:aws:sns:us-east-1:123456789012:ses-${derived(seed, "ses").toString("hex").slice(0, 12)}` }),
      sign: (_url, { topicArn }) => {
        const sesDelivery = {
          eventType: "Delivery",
          mail: { timestamp: now(), messageId: randomUUID(), destination: ["someone@example.com"] },
          delivery: { timestamp: now(), recipients: ["someone@example.com"] },
        };
        const envelope = snsNotification(snsSigner, sesDelivery, { topicArn });
        return {
          body: JSON.stringify(envelope),
          headers: {
            "content-type": "text/plain; charset=UTF-8",
            "x-amz-sns-message-type": envelope.Type!,
            "x-amz-sns-message-id": envelope.MessageId!,
            "x-amz-sns-topic-arn": envelope.TopicArn!,
          },
        };
      },
    },
  ];
}
