import { createHash, createHmac, randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { eventually } from "./wait.js";
import {
  TEST_ENABLEX_BASIC,
  TEST_GENERIC_SECRET,
  TEST_INFOBIP_BASIC,
  TEST_RBM_CLIENT_TOKEN,
  TEST_SINCH_SECRET,
  TEST_STANDARD_SECRET,
  TEST_TWILIO_AUTH_TOKEN,
  TEST_VONAGE_SIGNATURE_SECRET,
} from "./server.js";

export interface PostResult {
  status: number;
  body: Record<string, unknown>;
}

export function postWebhook(url: string, provider: string, body: string | Buffer, headers: Record<string, string>): Promise<PostResult> {
  return postTo(`${url}/webhooks/${provider}`, body, headers);
}

/**
 * Waits until the receipt applier has folded every acknowledged event (the door answers once an
 * event is appended; statuses, history and subscribers follow from the fold).
 */
export async function receiptsFolded(serverUrl: string): Promise<void> {
  await eventually(async () => {
    const ready = (await (await fetch(`${new URL(serverUrl).origin}/readyz`)).json()) as { receipts?: { backlog: number } };
    return ready.receipts?.backlog === 0 ? true : undefined;
  }, "the receipt applier to fold every acknowledged event");
}

/**
 * POSTs to a full URL (a door with a query string, say); JSON unless the headers say otherwise.
 * An acknowledged delivery is returned once folded, so callers read the statuses it moved.
 */
export async function postTo(url: string, body: string | Buffer, headers: Record<string, string>): Promise<PostResult> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  if (response.status === 200) await receiptsFolded(url);
  const text = await response.text();
  const contentType = response.headers.get("content-type") ?? "";
  // Ackline answers JSON, except where a provider expects its own format (TwiML to Twilio's inbound webhook).
  if (!contentType.startsWith("application/json")) return { status: response.status, body: text ? { contentType, text } : {} };
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** POSTs a signed generic receipt and returns as soon as the door answers (not waiting for the fold). */
export async function postReceipt(url: string, payload: Record<string, unknown>, init: { signal?: AbortSignal } = {}) {
  const body = JSON.stringify(payload);
  const response = await fetch(`${url}/webhooks/generic`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-webhook-signature": genericSignature(body) },
    body,
    signal: init.signal,
  });
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body: (await response.json()) as Record<string, unknown> };
}

/** A generic click: each one is a distinct stored event (its timestamp is part of its deduplication key). */
export const click = (providerMessageId: string, at: number) => ({ event: "message.clicked", timestamp: new Date(at).toISOString(), message_id: providerMessageId });

export function genericSignature(body: string | Buffer, secret = TEST_GENERIC_SECRET): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

export function postGeneric(url: string, payload: Record<string, unknown>, secret = TEST_GENERIC_SECRET): Promise<PostResult> {
  const body = JSON.stringify(payload);
  return postWebhook(url, "generic", body, { "x-webhook-signature": genericSignature(body, secret) });
}

export function basicAuthorization(credentials: string): string {
  return `Basic ${Buffer.from(credentials).toString("base64")}`;
}

export function enablexAuthorization(credentials = TEST_ENABLEX_BASIC): string {
  return basicAuthorization(credentials);
}

export function postEnablex(url: string, payload: Record<string, unknown>, credentials = TEST_ENABLEX_BASIC): Promise<PostResult> {
  return postWebhook(url, "enablex", JSON.stringify(payload), { authorization: enablexAuthorization(credentials) });
}

export function standardHeaders(id: string, body: string, options: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const key = Buffer.from((options.secret ?? TEST_STANDARD_SECRET).replace(/^whsec_/, ""), "base64");
  const mac = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${mac}` };
}

export function postStandard(url: string, id: string, payload: Record<string, unknown>, options: { secret?: string; timestamp?: number } = {}): Promise<PostResult> {
  const body = JSON.stringify(payload);
  return postWebhook(url, "standard", body, standardHeaders(id, body, options));
}

/** X-Twilio-Signature as Twilio documents it: base64 HMAC-SHA1 over the URL, then every parameter sorted by name as name+value. */
export function twilioSignature(url: string, params: Record<string, string>, authToken = TEST_TWILIO_AUTH_TOKEN): string {
  const signed = Object.keys(params)
    .sort()
    .reduce((data, name) => data + name + params[name], url);
  return createHmac("sha1", authToken).update(signed).digest("base64");
}

/** Posts Twilio's form to `url` (a `/webhooks/twilio` URL), signed over `signedUrl` (default: that same URL). */
export function postTwilio(url: string, params: Record<string, string>, options: { signedUrl?: string; authToken?: string } = {}): Promise<PostResult> {
  return postTo(url, new URLSearchParams(params).toString(), {
    "content-type": "application/x-www-form-urlencoded",
    "x-twilio-signature": twilioSignature(options.signedUrl ?? url, params, options.authToken),
  });
}

/** `Bearer <JWT>` as Vonage signs its callbacks: HS256 with the signature secret, `payload_hash` = hex SHA-256 of the body. */
export async function vonageAuthorization(body: string, options: { secret?: string; issuedAt?: number; payloadHash?: string } = {}): Promise<string> {
  const jwt = await new SignJWT({
    api_key: "a1b2c3d",
    application_id: "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    payload_hash: options.payloadHash ?? createHash("sha256").update(body).digest("hex"),
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("Vonage")
    .setIssuedAt(options.issuedAt)
    .setJti(randomUUID())
    .sign(new TextEncoder().encode(options.secret ?? TEST_VONAGE_SIGNATURE_SECRET));
  return `Bearer ${jwt}`;
}

/** Posts a signed Vonage callback to `url` (a `/webhooks/vonage` URL). */
export async function postVonage(url: string, payload: Record<string, unknown>, options: Parameters<typeof vonageAuthorization>[1] = {}): Promise<PostResult> {
  const body = JSON.stringify(payload);
  return postTo(url, body, { authorization: await vonageAuthorization(body, options) });
}

/** A Google RBM agent event as its webhook receives it: a Pub/Sub push envelope with the event as base64 `message.data`. */
export function rbmEnvelope(event: Record<string, unknown>, options: { publishTime?: string } = {}): { body: string; data: Buffer } {
  const data = Buffer.from(JSON.stringify(event));
  const messageId = randomUUID();
  const publishTime = options.publishTime ?? new Date().toISOString();
  const body = JSON.stringify({
    message: { attributes: {}, data: data.toString("base64"), messageId, message_id: messageId, publishTime, publish_time: publishTime },
    subscription: "projects/rbm-acme-agent/subscriptions/rbm-acme-agent-sub",
  });
  return { body, data };
}

/** X-Goog-Signature as Google's sample computes it: base64 HMAC-SHA512 keyed with the client token, over the DECODED data. */
export function rbmSignature(data: Buffer, clientToken = TEST_RBM_CLIENT_TOKEN): string {
  return createHmac("sha512", clientToken).update(data).digest("base64");
}

/** Posts a signed RBM agent event to `url` (a `/webhooks/rbm` URL). */
export function postRbm(url: string, event: Record<string, unknown>, clientToken = TEST_RBM_CLIENT_TOKEN): Promise<PostResult> {
  const { body, data } = rbmEnvelope(event);
  return postTo(url, body, { "x-goog-signature": rbmSignature(data, clientToken) });
}

/** Sinch's signature headers: base64 HMAC-SHA256(secret, body + "." + nonce + "." + timestamp). */
export function sinchHeaders(body: string, options: { secret?: string; timestamp?: number; nonce?: string } = {}): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = options.nonce ?? randomUUID();
  const signature = createHmac("sha256", options.secret ?? TEST_SINCH_SECRET).update(`${body}.${nonce}.${timestamp}`).digest("base64");
  return {
    "x-sinch-webhook-signature": signature,
    "x-sinch-webhook-signature-nonce": nonce,
    "x-sinch-webhook-signature-timestamp": timestamp,
    "x-sinch-webhook-signature-algorithm": "HmacSHA256",
  };
}

/** Posts a signed Sinch Conversation API callback to `url` (a `/webhooks/sinch` URL). */
export function postSinch(url: string, payload: Record<string, unknown>, options: Parameters<typeof sinchHeaders>[1] = {}): Promise<PostResult> {
  const body = JSON.stringify(payload);
  return postTo(url, body, sinchHeaders(body, options));
}

/** Posts an Infobip webhook (`{"results": [...]}`) to `url` (a `/webhooks/infobip` URL) with its Basic credentials. */
export function postInfobip(url: string, payload: Record<string, unknown>, credentials = TEST_INFOBIP_BASIC): Promise<PostResult> {
  return postTo(url, JSON.stringify(payload), { authorization: basicAuthorization(credentials) });
}
