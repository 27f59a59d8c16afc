import { generateKeyPairSync } from "node:crypto";
import type { JWK } from "jose";
import { SigningKeys } from "../../src/auth/signing-keys.js";

/** An Ed25519 signing key the test knows (SIGNING_KEY), so it can mint links as the server would. */
export const TEST_SIGNING_JWK: JWK = { ...generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }), kid: "ack-test-key" };
export const TEST_SIGNING_KEY = JSON.stringify(TEST_SIGNING_JWK);

const testKeys = SigningKeys.load([TEST_SIGNING_JWK]);

/** A `/t/<id>?tok=…` link as notifications carried before short links, signed with TEST_SIGNING_KEY. */
export async function legacyLink(baseUrl: string, transferId: string, expiresAt = new Date(Date.now() + 3_600_000)): Promise<URL> {
  const token = await (await testKeys).signLinkToken(transferId, expiresAt);
  return new URL(`${baseUrl}/t/${transferId}?tok=${token}`);
}

/** The keys a server started with TEST_SIGNING_KEY holds (short link codes included). */
export const testSigningKeys = () => testKeys;

/** A browser's form POST (the Download button, the code's form). */
export function postForm(url: URL | string, fields: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}
