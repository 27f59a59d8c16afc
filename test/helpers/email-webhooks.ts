import { createHmac, randomBytes, sign, type KeyObject } from "node:crypto";
import { TEST_MAILGUN_SIGNING_KEY, TEST_SENDGRID_KEYS } from "./server.js";
import { postWebhook, type PostResult } from "./webhooks.js";

/** The signing SendGrid and Mailgun do, done here as each documents it (SendGrid's checked against its own verifier in the unit tests). */

// SendGrid: ECDSA P-256 / SHA-256 over the timestamp header followed by the raw body, base64 DER.
export function sendgridHeaders(body: string, options: { timestamp?: number; privateKey?: KeyObject } = {}): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = sign("sha256", Buffer.from(timestamp + body), { key: options.privateKey ?? TEST_SENDGRID_KEYS.privateKey, dsaEncoding: "der" });
  return { "x-twilio-email-event-webhook-signature": signature.toString("base64"), "x-twilio-email-event-webhook-timestamp": timestamp };
}

export function postSendGrid(url: string, events: unknown[], options: Parameters<typeof sendgridHeaders>[1] = {}): Promise<PostResult> {
  const body = JSON.stringify(events);
  return postWebhook(url, "sendgrid", body, sendgridHeaders(body, options));
}

// Mailgun: hex HMAC-SHA256(signing key, timestamp + token), inside the body; the token is 50 random characters.
export function mailgunSignature(options: { timestamp?: number; token?: string; key?: string } = {}) {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const token = options.token ?? randomBytes(25).toString("hex");
  const signature = createHmac("sha256", options.key ?? TEST_MAILGUN_SIGNING_KEY).update(timestamp + token).digest("hex");
  return { timestamp, token, signature };
}

export function mailgunBody(eventData: unknown, signature = mailgunSignature()): string {
  return JSON.stringify({ signature, "event-data": eventData });
}

export function postMailgun(url: string, eventData: unknown, signature = mailgunSignature()): Promise<PostResult> {
  return postWebhook(url, "mailgun", mailgunBody(eventData, signature), {});
}
