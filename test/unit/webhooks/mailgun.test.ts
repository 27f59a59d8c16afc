import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { mailgun } from "../../../src/webhooks/providers/mailgun.js";
import { mailgunBody, mailgunSignature } from "../../helpers/email-webhooks.js";
import { onlyEvent, rejection, webhookRequest } from "../../helpers/parse-assertions.js";
import { TEST_MAILGUN_SIGNING_KEY } from "../../helpers/server.js";

const secrets = { mailgunSigningKey: TEST_MAILGUN_SIGNING_KEY };
const now = new Date("2018-08-12T21:20:00.000Z");
const nowSeconds = Math.floor(now.getTime() / 1000);

/** A complete "delivered" event as Mailgun posts it (its documented shape; sanitized). */
const delivered = {
  tags: [],
  timestamp: 1534108637.153125,
  storage: { url: "https://sw.api.mailgun.net/v3/domains/example.org/messages/eyJwI...", key: "eyJwI..." },
  "recipient-domain": "example.com",
  id: "hTWCTD81RtiDN-TDZr8sXw",
  campaigns: [],
  "user-variables": {},
  flags: { "is-routed": false, "is-authenticated": true, "is-system-test": false, "is-test-mode": false },
  "log-level": "info",
  envelope: { "sending-ip": "198.51.100.200", sender: "test@example.org", transport: "smtp", targets: "recipient@example.com" },
  message: {
    headers: { to: "recipient@example.com", "message-id": "20180812211713.1.DF5966851B4BAA99@example.org", from: "test@example.org", subject: "Testing" },
    attachments: [],
    size: 809,
  },
  recipient: "recipient@example.com",
  event: "delivered",
  "delivery-status": { tls: true, "mx-host": "smtp-in.example.com", "attempt-no": 1, description: "", "session-seconds": 3.57, utf8: true, code: 250, message: "OK" },
};

/** A permanent failure (a bounce), as documented. */
const failedPermanent = {
  ...delivered,
  id: "G9Bn5sl1TC6nu79C8C0bwg",
  event: "failed",
  severity: "permanent",
  reason: "bounce",
  recipient: "invalid@example.com",
  timestamp: 1534110422.389832,
  "delivery-status": { "attempt-no": 1, description: "", code: 550, message: "5.1.1 The email account that you tried to reach does not exist." },
};

function parse(eventData: unknown, options: { body?: string; signature?: ReturnType<typeof mailgunSignature>; key?: string | null } = {}) {
  const body = options.body ?? mailgunBody(eventData, options.signature ?? mailgunSignature({ timestamp: nowSeconds - 10 }));
  const keys = options.key === null ? {} : { mailgunSigningKey: options.key ?? secrets.mailgunSigningKey };
  return mailgun.parse(Buffer.from(body), webhookRequest({}), keys, now);
}

const single = (eventData: unknown) => onlyEvent(parse(eventData));
const refusal = (eventData: unknown, options: Parameters<typeof parse>[1] = {}) => rejection(() => parse(eventData, options));

describe("mailgun signature", () => {
  it("verifies Mailgun's scheme: hex HMAC-SHA256(signing key, timestamp + token)", () => {
    const timestamp = String(nowSeconds);
    const token = "651869375b9df3c98fc15c4889b102119add1235c38fc92824";
    const signature = createHmac("sha256", TEST_MAILGUN_SIGNING_KEY).update(`${timestamp}${token}`).digest("hex");
    expect(onlyEvent(parse(delivered, { signature: { timestamp, token, signature } })).event).toBe("DELIVERED");
    // Upper-case hex is the same signature.
    expect(onlyEvent(parse(delivered, { signature: { timestamp, token, signature: signature.toUpperCase() } })).event).toBe("DELIVERED");
  });

  it("refuses (401) without a configured key, and a signature that does not match its timestamp and token", () => {
    expect(refusal(delivered, { key: null })).toMatchObject({ statusCode: 401, message: expect.stringContaining("not configured") as string });
    const good = mailgunSignature({ timestamp: nowSeconds });
    expect(refusal(delivered, { signature: { ...good, token: `${good.token}x` } }).statusCode).toBe(401);
    expect(refusal(delivered, { signature: { ...good, timestamp: String(nowSeconds - 1) } }).statusCode).toBe(401);
    expect(refusal(delivered, { signature: mailgunSignature({ timestamp: nowSeconds, key: "another-key" }) }).statusCode).toBe(401);
    expect(refusal(delivered, { signature: { ...good, signature: `${good.signature}00` } }).statusCode).toBe(401);
    expect(refusal(delivered, { signature: { ...good, signature: "" } }).statusCode).toBe(401);
  });

  it("accepts a subaccount's event by its parent-signature, made with the primary account's key", () => {
    const timestamp = String(nowSeconds);
    const token = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123";
    const parent = createHmac("sha256", TEST_MAILGUN_SIGNING_KEY).update(`${timestamp}${token}`).digest("hex");
    const signature = { timestamp, token, signature: "12d99f5a15355c180971bed7494d578b093c958f57766f3fe750761baed12345", "parent-signature": parent };
    expect(onlyEvent(parse(delivered, { signature })).event).toBe("DELIVERED");
  });

  it("the signed timestamp may be up to 8 hours old (Mailgun's retry span) and 5 minutes ahead, no more", () => {
    expect(onlyEvent(parse(delivered, { signature: mailgunSignature({ timestamp: nowSeconds - 8 * 60 * 60 + 5 }) })).event).toBe("DELIVERED");
    expect(refusal(delivered, { signature: mailgunSignature({ timestamp: nowSeconds - 8 * 60 * 60 - 5 }) }).statusCode).toBe(401);
    expect(refusal(delivered, { signature: mailgunSignature({ timestamp: nowSeconds + 6 * 60 }) }).statusCode).toBe(401);
  });

  it("hands its token to the route as single-use, remembered until the timestamp window closes", () => {
    const signature = mailgunSignature({ timestamp: nowSeconds - 60 });
    expect(parse(delivered, { signature }).replayToken).toEqual({
      token: signature.token,
      expiresAt: new Date((nowSeconds - 60 + 8 * 60 * 60) * 1000),
    });
  });

  it("refuses (400) a body that is not Mailgun's, once signed", () => {
    expect(refusal(undefined, { body: "nope" })).toMatchObject({ statusCode: 400, message: "body is not valid JSON" });
    expect(refusal(undefined, { body: JSON.stringify({ "event-data": delivered }) })).toMatchObject({ statusCode: 400, message: expect.stringContaining("signature") as string });
    expect(refusal({ ...delivered, event: "stored" })).toMatchObject({ statusCode: 400, message: expect.stringContaining("unknown Mailgun event") as string });
    const { id: _id, ...anonymous } = delivered;
    expect(refusal(anonymous).statusCode).toBe(400);
  });
});

describe("mailgun normalization", () => {
  it("normalizes the documented delivered event completely", () => {
    expect(single(delivered)).toEqual({
      event: "DELIVERED",
      occurredAt: new Date(1534108637153),
      channel: "EMAIL",
      // Mailgun reports the Message-ID without angle brackets; Ackline records it with them.
      correlation: { providerMessageId: "<20180812211713.1.DF5966851B4BAA99@example.org>" },
      dedupeKey: "mailgun:hTWCTD81RtiDN-TDZr8sXw:2018-08-12T21:17:17.153Z",
      metadata: { event: "delivered", recipient: "recipient@example.com", delivery_status: delivered["delivery-status"] },
      raw: delivered,
    });
  });

  it.each([
    ["accepted", "SENT"],
    ["rejected", "FAILED"],
    ["delivered", "DELIVERED"],
    ["opened", "READ"],
    ["clicked", "ACTION"],
    ["unsubscribed", "OPT_OUT"],
    ["complained", "COMPLAINT"],
  ])("%s → %s", (event, expected) => {
    expect(single({ ...delivered, event }).event).toBe(expected);
  });

  it("a permanent failure is FAILED as a permanent bounce (the address is suppressed); a temporary one is history, Mailgun retries", () => {
    expect(single(failedPermanent)).toMatchObject({
      event: "FAILED",
      metadata: { event: "failed", severity: "permanent", reason: "bounce", recipient: "invalid@example.com", bounce_type: "permanent" },
    });
    const temporary = single({ ...failedPermanent, severity: "temporary", reason: "generic" });
    expect(temporary.event).toBe("QUEUED");
    expect(temporary.metadata).not.toHaveProperty("bounce_type");
  });

  it("a click keeps its URL", () => {
    expect(single({ ...delivered, event: "clicked", url: "https://ackline.example.test/t/tx_1" }).metadata.url).toBe("https://ackline.example.test/t/tx_1");
  });

  it("correlates to Ackline's own message when the Message-ID is Ackline's", () => {
    const own = { ...delivered, message: { headers: { "message-id": "msg_AbCdEf0123456789@ackline" } } };
    expect(single(own).correlation).toEqual({ providerMessageId: "<msg_AbCdEf0123456789@ackline>", messageId: "msg_AbCdEf0123456789" });
    expect(single({ ...delivered, message: {} }).correlation).toEqual({});
  });

  it("dedupe: a retried event repeats its key (whatever its new signature); another event of the same id a day later does not", () => {
    const first = onlyEvent(parse(delivered, { signature: mailgunSignature({ timestamp: nowSeconds - 100 }) })).dedupeKey;
    expect(onlyEvent(parse(delivered, { signature: mailgunSignature({ timestamp: nowSeconds }) })).dedupeKey).toBe(first);
    expect(single({ ...delivered, timestamp: delivered.timestamp + 86_400 }).dedupeKey).not.toBe(first);
  });
});
