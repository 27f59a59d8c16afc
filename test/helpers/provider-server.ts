import { afterAll, beforeAll, vi } from "vitest";
import { startFakeTwilio } from "./fake-twilio.js";
import { startFakeVonage } from "./fake-vonage.js";
import { startTestServer, TEST_TWILIO_AUTH_TOKEN, tokenFor, type TestServer } from "./server.js";

/** What a proxy in front of Ackline would present to the providers. */
export const PUBLIC_BASE_URL = "https://ackline.example.test";

/**
 * A fake of the provider's API and an Ackline sending through it (with `env`). The adapters call
 * the provider's fixed API origin, so fetch is pointed at the fake for that origin.
 */
export function serverSendingThrough<Fake extends { url: string; close(): Promise<void> }>(apiOrigin: string, startFake: () => Promise<Fake>, env: Record<string, string>) {
  const context = {} as { fake: Fake; server: TestServer; token: string };
  beforeAll(async () => {
    context.fake = await startFake();
    const realFetch = globalThis.fetch;
    vi.stubGlobal("fetch", (input: string | URL | Request, init?: RequestInit) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      return realFetch(url.startsWith(apiOrigin) ? context.fake.url + url.slice(apiOrigin.length) : input, init);
    });
    context.server = await startTestServer({ env: { ...env, PUBLIC_BASE_URL } });
    context.token = await tokenFor("acme");
  });
  afterAll(async () => {
    vi.unstubAllGlobals();
    await context.server?.close();
    await context.fake?.close();
  });
  return context;
}

export const TWILIO_ACCOUNT_SID = `AC${"0123456789abcdef".repeat(2)}`;

/** An Ackline sending RCS (from `rcs:acme_agent`) and SMS through a fake Twilio. */
export function serverSendingThroughTwilio(env: Record<string, string> = {}) {
  return serverSendingThrough("https://api.twilio.com", () => startFakeTwilio({ accountSid: TWILIO_ACCOUNT_SID, authToken: TEST_TWILIO_AUTH_TOKEN }), {
    RCS_PROVIDER: "twilio",
    SMS_PROVIDER: "twilio",
    TWILIO_ACCOUNT_SID,
    TWILIO_RCS_SENDER: "acme_agent",
    TWILIO_FROM: "+15005550006",
    ...env,
  });
}

/** An Ackline sending RCS (from the agent `AckTransfersAgent`) and SMS through a fake Vonage. */
export function serverSendingThroughVonage() {
  return serverSendingThrough("https://api.nexmo.com", () => startFakeVonage({ apiKey: "a1b2c3d", apiSecret: "vonage-api-secret" }), {
    RCS_PROVIDER: "vonage",
    SMS_PROVIDER: "vonage",
    VONAGE_API_KEY: "a1b2c3d",
    VONAGE_API_SECRET: "vonage-api-secret",
    VONAGE_RCS_FROM: "AckTransfersAgent",
    VONAGE_SMS_FROM: "Ackline",
  });
}
