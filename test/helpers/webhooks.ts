import { createHmac } from "node:crypto";
import { TEST_ENABLEX_BASIC, TEST_GENERIC_SECRET, TEST_STANDARD_SECRET } from "./server.js";

export interface PostResult {
  status: number;
  body: Record<string, unknown>;
}

export async function postWebhook(url: string, provider: string, body: string | Buffer, headers: Record<string, string>): Promise<PostResult> {
  const response = await fetch(`${url}/webhooks/${provider}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export function genericSignature(body: string | Buffer, secret = TEST_GENERIC_SECRET): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

export function postGeneric(url: string, payload: Record<string, unknown>, secret = TEST_GENERIC_SECRET): Promise<PostResult> {
  const body = JSON.stringify(payload);
  return postWebhook(url, "generic", body, { "x-webhook-signature": genericSignature(body, secret) });
}

export function enablexAuthorization(credentials = TEST_ENABLEX_BASIC): string {
  return `Basic ${Buffer.from(credentials).toString("base64")}`;
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
