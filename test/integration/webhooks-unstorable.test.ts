import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postSendGrid } from "../helpers/email-webhooks.js";
import { capturingLogger } from "../helpers/log-capture.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postEnablex, postGeneric, postRbm, postSinch, postTwilio, postVonage, postWebhook, genericSignature, type PostResult } from "../helpers/webhooks.js";

/**
 * Correctly signed deliveries PostgreSQL cannot store are refused at the door with 400 and the
 * reason: a 503 would make the provider retry them for ever. The refused body is kept in the log.
 */
describe("webhook side-door: signed deliveries the store cannot hold are 400, never 503", () => {
  let server: TestServer;
  const { log, lines: logLines } = capturingLogger<{ msg: string; provider?: string; reason?: string; delivery?: { bytes: number; sha256: string; excerpt: string } }>();

  beforeAll(async () => {
    server = await startTestServer({ log });
  });
  afterAll(async () => {
    await server?.close();
  });

  const unique = () => randomBytes(6).toString("hex");
  const now = () => new Date().toISOString();
  const generic = (extra: Record<string, unknown>) => ({ event: "message.delivered", timestamp: now(), message_id: `sim_${unique()}`, channel: "rcs", ...extra });
  const long = "m".repeat(3000);

  function expectRefused(result: PostResult, reason: RegExp) {
    expect(result.status).toBe(400);
    expect(result.body.error).toMatch(reason);
  }

  it.each([
    ["a NUL in a JSON key", { metadata: { "note\u0000": "x" } }, /metadata\.note.*cannot be stored/],
    ["a NUL in a JSON value", { carrier: "310\u0000260" }, /carrier.*cannot be stored/],
    ["a lone high surrogate", { metadata: { text: "broken \ud800 text" } }, /metadata\.text.*cannot be stored/],
    ["a lone low surrogate in a key", { metadata: { "\udc00": 1 } }, /cannot be stored/],
    ["a 3,000-character message_id", { message_id: long }, /message_id: longer than 256 characters/],
  ])("generic: %s", async (_case, extra, reason) => {
    expectRefused(await postGeneric(server.url, generic(extra)), reason);
  });

  it("an escaped emoji (a surrogate pair) and an escaped backslash before u0000 are text like any other: stored", async () => {
    const body = JSON.stringify(generic({ metadata: { text: "ok 😀" } })).replace("😀", "\\ud83d\\ude00").replace("ok ", "ok \\\\u0000 ");
    expect(body).toContain("\\ud83d\\ude00");
    const result = await postWebhook(server.url, "generic", body, { "x-webhook-signature": genericSignature(body) });
    expect(result).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
  });

  it("JSON nested deeper than 64 levels (5,000 deep cannot even be serialized); 60 levels are stored", async () => {
    const signedGeneric = (depth: number) => {
      const body = JSON.stringify(generic({})).replace(/}$/, `,"extra":${"[".repeat(depth)}1${"]".repeat(depth)}}`);
      return postWebhook(server.url, "generic", body, { "x-webhook-signature": genericSignature(body) });
    };
    for (const depth of [100, 5_000]) expectRefused(await signedGeneric(depth), /nests deeper than 64 levels/);
    expect((await signedGeneric(60)).status).toBe(200);
  });

  it("enablex: a NUL in an inbound text", async () => {
    const inbound = { phone: "+14165553999", request_id: `req_${unique()}`, type: "text", text: "hello\u0000world", timestamp: now() };
    expectRefused(await postEnablex(server.url, inbound), /text.*cannot be stored/);
  });

  it("twilio: a %00 in a form field, and a 3,000-character MessageSid", async () => {
    const url = `${server.url}/webhooks/twilio`;
    const params = { MessageSid: `SM${unique()}`, MessageStatus: "delivered", To: "rcs:+14165553999", From: "rcs:acme_agent" };
    expectRefused(await postTwilio(url, { ...params, ErrorCode: "30\u00000" }), /ErrorCode.*cannot be stored/);
    expectRefused(await postTwilio(url, { ...params, MessageSid: long }), /MessageSid: longer than 256/);
  });

  it("vonage: a 3,000-character message_uuid", async () => {
    const payload = { message_uuid: long, to: "14165553999", from: "acme", timestamp: now(), status: "delivered", channel: "sms" };
    expectRefused(await postVonage(`${server.url}/webhooks/vonage`, payload), /message_uuid: longer than 256/);
  });

  it("rbm: a NUL escaped inside the base64 agent event", async () => {
    const event = { senderPhoneNumber: "+14165553999", eventType: "DELIVERED", eventId: `Mx${unique()}`, messageId: `msg\u0000${unique()}`, sendTime: now() };
    expectRefused(await postRbm(`${server.url}/webhooks/rbm`, event), /message\.data\.messageId.*cannot be stored/);
  });

  it("sinch: a lone surrogate in a delivery report", async () => {
    const report = {
      app_id: "01APP",
      event_time: now(),
      message_delivery_report: { message_id: `01${unique()}`, status: "DELIVERED", channel_identity: { channel: "RCS", identity: "14165553999\ud800" } },
    };
    expectRefused(await postSinch(`${server.url}/webhooks/sinch`, report), /identity.*cannot be stored/);
  });

  it("sendgrid: a 3,000-character sg_event_id", async () => {
    const event = { email: "a@example.com", event: "delivered", sg_event_id: long, sg_message_id: `sg_${unique()}`, timestamp: Math.floor(Date.now() / 1000) };
    expectRefused(await postSendGrid(server.url, [event]), /sg_event_id: longer than 256/);
  });

  it("the refused delivery is kept in the log for inspection: its reason, size, SHA-256 and a bounded excerpt", async () => {
    const marker = unique();
    const body = JSON.stringify(generic({ carrier: "nul\u0000", metadata: { marker, padding: "p".repeat(10_000) } }));
    const result = await postWebhook(server.url, "generic", body, { "x-webhook-signature": genericSignature(body) });
    expect(result.status).toBe(400);
    const line = logLines.find((entry) => entry.msg === "webhook rejected" && entry.delivery?.excerpt.includes(marker));
    expect(line).toMatchObject({ provider: "generic", delivery: { bytes: Buffer.byteLength(body) } });
    expect(line!.reason).toMatch(/carrier.*cannot be stored/);
    expect(line!.delivery!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(line!.delivery!.excerpt.length).toBeLessThanOrEqual(2048);
    expect(body.startsWith(line!.delivery!.excerpt)).toBe(true);
  });
});
