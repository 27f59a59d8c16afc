// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect polyfill first.
import "reflect-metadata";
import { createPrivateKey, randomBytes, randomUUID, sign, type KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { TEST_SES_TOPIC_ARN } from "./server.js";
import { postWebhook, type PostResult } from "./webhooks.js";

/**
 * Amazon SNS's signing: RSA over "Name\nvalue\n" of the type's signed fields, with a certificate
 * published at SigningCertURL (checked against AWS's sns-validator in the unit tests).
 */
export const TEST_SNS_CERTIFICATE_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem";

export interface SnsSigner {
  privateKey: KeyObject;
  certificatePem: string;
  /** `SNS_CERTIFICATES` for a server that should trust this signer without fetching. */
  certificates: Record<string, string>;
}

/** A fresh RSA key and a self-signed certificate for it, standing in for SNS's. */
export async function createSnsSigner(): Promise<SnsSigner> {
  const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString("hex"),
    name: "CN=sns.amazonaws.com",
    notBefore: new Date(now - 24 * 60 * 60 * 1000),
    notAfter: new Date(now + 24 * 60 * 60 * 1000),
    keys,
    signingAlgorithm: algorithm,
  });
  const privateKey = createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)), format: "der", type: "pkcs8" });
  const certificatePem = certificate.toString("pem");
  return { privateKey, certificatePem, certificates: { [TEST_SNS_CERTIFICATE_URL]: certificatePem } };
}

const SNS_SIGNED_FIELDS: Record<string, readonly string[]> = {
  Notification: ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
  SubscriptionConfirmation: ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
  UnsubscribeConfirmation: ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
};

export type SnsEnvelope = Record<string, string>;

/** Adds SignatureVersion, SigningCertURL and Signature to an SNS message. */
export function signSns(signer: SnsSigner, message: SnsEnvelope, options: { version?: "1" | "2"; certificateUrl?: string } = {}): SnsEnvelope {
  const version = options.version ?? "1";
  const signed = SNS_SIGNED_FIELDS[message.Type!]!.filter((name) => message[name] !== undefined)
    .map((name) => `${name}\n${message[name]}\n`)
    .join("");
  const signature = sign(version === "1" ? "sha1" : "sha256", Buffer.from(signed), signer.privateKey).toString("base64");
  return { ...message, SignatureVersion: version, Signature: signature, SigningCertURL: options.certificateUrl ?? TEST_SNS_CERTIFICATE_URL };
}

/** A signed SNS Notification carrying `sesEvent` (an object, or a string as SES's set-up notice is). */
export function snsNotification(
  signer: SnsSigner,
  sesEvent: unknown,
  options: { messageId?: string; topicArn?: string; timestamp?: Date; version?: "1" | "2"; certificateUrl?: string } = {},
): SnsEnvelope {
  const message = {
    Type: "Notification",
    MessageId: options.messageId ?? randomUUID(),
    TopicArn: options.topicArn ?? TEST_SES_TOPIC_ARN,
    Subject: "Amazon SES Email Event Notification",
    Message: typeof sesEvent === "string" ? sesEvent : JSON.stringify(sesEvent),
    Timestamp: (options.timestamp ?? new Date()).toISOString(),
    UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:ackline-ses-events:0000",
  };
  return signSns(signer, message, options);
}

/** A signed SubscriptionConfirmation, as SNS sends it when an endpoint subscribes to `topicArn`. */
export function snsSubscriptionConfirmation(signer: SnsSigner, options: { topicArn?: string; subscribeUrl?: string; timestamp?: Date } = {}): SnsEnvelope {
  const topicArn = options.topicArn ?? TEST_SES_TOPIC_ARN;
  const token = randomBytes(32).toString("hex");
  const region = topicArn.split(":")[3]!;
  return signSns(signer, {
    Type: "SubscriptionConfirmation",
    MessageId: randomUUID(),
    Token: token,
    TopicArn: topicArn,
    Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL:
      options.subscribeUrl ??
      `https://sns.${region}.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${token}`,
    Timestamp: (options.timestamp ?? new Date()).toISOString(),
  });
}

/** Posts as SNS does: JSON as text/plain, with its message-type and message-id headers. */
export function postSns(url: string, envelope: SnsEnvelope): Promise<PostResult> {
  return postWebhook(url, "ses", JSON.stringify(envelope), {
    "content-type": "text/plain; charset=UTF-8",
    "x-amz-sns-message-type": envelope.Type!,
    "x-amz-sns-message-id": envelope.MessageId!,
    "x-amz-sns-topic-arn": envelope.TopicArn!,
  });
}
