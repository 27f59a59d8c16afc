import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { WebhookRejection } from "../../../src/webhooks/provider.js";
import { standard, verifyStandardSignature } from "../../../src/webhooks/providers/standard.js";
import { TEST_STANDARD_SECRET } from "../../helpers/server.js";
import { standardHeaders } from "../../helpers/webhooks.js";
import { rejection, webhookRequest } from "../../helpers/parse-assertions.js";

/** The official Standard Webhooks test vectors (see provider-facts.md). */
const VECTOR_A = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: "1614265330",
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};
const VECTOR_B = {
  secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
  id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
  timestamp: "1649367553",
  body: '{"email":"test@example.com","username":"test_user"}',
  signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
};
type Vector = typeof VECTOR_A;

const atSeconds = (seconds: number) => new Date(seconds * 1000);
const vectorNow = (vector: Vector) => atSeconds(Number(vector.timestamp));

function verify(vector: Vector, overrides: { signature?: string; timestamp?: string; id?: string; secret?: string; body?: string; now?: Date } = {}) {
  verifyStandardSignature(
    overrides.secret ?? vector.secret,
    { id: overrides.id ?? vector.id, timestamp: overrides.timestamp ?? vector.timestamp, signature: overrides.signature ?? vector.signature },
    Buffer.from(overrides.body ?? vector.body),
    overrides.now ?? vectorNow(vector),
  );
}


describe("verifyStandardSignature — official vectors", () => {
  it("the test secret is vector A's key (the integration tests rely on it)", () => {
    expect(TEST_STANDARD_SECRET).toBe(VECTOR_A.secret);
  });

  it.each([
    ["A", VECTOR_A],
    ["B", VECTOR_B],
  ])("accepts official vector %s at its own timestamp", (_name, vector) => {
    expect(() => verify(vector)).not.toThrow();
  });

  it.each([
    ["A", VECTOR_A],
    ["B", VECTOR_B],
  ])("vector %s is not accepted with the other vector's secret", (_name, vector) => {
    const other = vector === VECTOR_A ? VECTOR_B : VECTOR_A;
    expect(rejection(() => verify(vector, { secret: other.secret })).statusCode).toBe(401);
  });

  it("rejects vector A with its last signature character changed (…1OE= → …1OA=)", () => {
    const signature = VECTOR_A.signature.replace(/1OE=$/, "1OA=");
    expect(signature).not.toBe(VECTOR_A.signature);
    expect(rejection(() => verify(VECTOR_A, { signature })).statusCode).toBe(401);
  });

  it('rejects a bare "v1," entry', () => {
    expect(rejection(() => verify(VECTOR_A, { signature: "v1," })).statusCode).toBe(401);
  });

  it.each([
    ["B", VECTOR_B],
    ["A", VECTOR_A],
  ])("rejects a truncated signature (vector %s)", (_name, vector) => {
    // The reference library's "partial signature" case: the header cut to 8 characters.
    expect(rejection(() => verify(vector, { signature: vector.signature.slice(0, 8) })).statusCode).toBe(401);
    for (const cut of [4, 10, 30]) {
      const signature = vector.signature.slice(0, vector.signature.length - cut);
      expect(rejection(() => verify(vector, { signature })).statusCode, `cut ${cut}`).toBe(401);
    }
  });

  it('rejects the reference library\'s "invalid signature" (v1,dawfeoifkpqwoekfpqoekf)', () => {
    expect(rejection(() => verify(VECTOR_A, { signature: "v1,dawfeoifkpqwoekfpqoekf" })).statusCode).toBe(401);
  });

  it("accepts the key with or without its whsec_ prefix (as the reference libraries do)", () => {
    expect(() => verify(VECTOR_A, { secret: VECTOR_A.secret.replace(/^whsec_/, "") })).not.toThrow();
  });

  it("rejects a timestamp more than 5 minutes in the past or the future, and says why", () => {
    const ts = Number(VECTOR_A.timestamp);
    // The receiver's clock is 5 min + 1 s after the signed timestamp: the message is too old.
    const tooOld = rejection(() => verify(VECTOR_A, { now: atSeconds(ts + 301) }));
    expect(tooOld.statusCode).toBe(401);
    expect(tooOld.message).toMatch(/tolerance/);
    // The receiver's clock is 5 min + 1 s before it: the message claims to come from the future.
    expect(rejection(() => verify(VECTOR_A, { now: atSeconds(ts - 301) })).statusCode).toBe(401);
  });

  it("accepts a timestamp just inside the 5-minute tolerance on both sides", () => {
    const ts = Number(VECTOR_A.timestamp);
    expect(() => verify(VECTOR_A, { now: atSeconds(ts + 299) })).not.toThrow();
    expect(() => verify(VECTOR_A, { now: atSeconds(ts - 299) })).not.toThrow();
  });

  it('rejects a timestamp that is not a Unix time ("hello")', () => {
    const error = rejection(() => verify(VECTOR_A, { timestamp: "hello" }));
    expect(error.statusCode).toBe(401);
    expect(error.message).toMatch(/webhook-timestamp/);
  });

  it("rejects a signature made with the wrong secret", () => {
    const wrong = standardHeaders(VECTOR_A.id, VECTOR_A.body, { secret: VECTOR_B.secret, timestamp: Number(VECTOR_A.timestamp) });
    expect(wrong["webhook-signature"]).not.toBe(VECTOR_A.signature);
    expect(rejection(() => verify(VECTOR_A, { signature: wrong["webhook-signature"] })).statusCode).toBe(401);
  });

  it("accepts a multi-entry header where one v1 entry matches (key rotation, unknown versions)", () => {
    const signature = `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= ${VECTOR_A.signature} v2,anything`;
    expect(() => verify(VECTOR_A, { signature })).not.toThrow();
  });

  it("rejects a multi-entry header where no v1 entry matches", () => {
    const signature = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,anything";
    expect(rejection(() => verify(VECTOR_A, { signature })).statusCode).toBe(401);
  });

  it("ignores the right MAC under another version tag (v1 is HMAC; v1a/v2 are not)", () => {
    const mac = VECTOR_A.signature.slice(3);
    expect(rejection(() => verify(VECTOR_A, { signature: `v1a,${mac}` })).statusCode).toBe(401);
    expect(rejection(() => verify(VECTOR_A, { signature: `v2,${mac}` })).statusCode).toBe(401);
    expect(rejection(() => verify(VECTOR_A, { signature: mac })).statusCode).toBe(401);
  });

  it("signs the exact bytes: re-serialized JSON does not verify", () => {
    const reserialized = JSON.stringify(JSON.parse(VECTOR_A.body));
    expect(reserialized).not.toBe(VECTOR_A.body);
    expect(rejection(() => verify(VECTOR_A, { body: reserialized })).statusCode).toBe(401);
  });

  it("binds the webhook-id and the timestamp into the signature", () => {
    expect(rejection(() => verify(VECTOR_A, { id: "msg_other" })).statusCode).toBe(401);
    expect(rejection(() => verify(VECTOR_A, { timestamp: String(Number(VECTOR_A.timestamp) + 1) })).statusCode).toBe(401);
  });

  it("uses the base64-decoded key, not the literal whsec_ string", () => {
    const literalKeyMac = createHmac("sha256", VECTOR_A.secret).update(`${VECTOR_A.id}.${VECTOR_A.timestamp}.${VECTOR_A.body}`).digest("base64");
    expect(rejection(() => verify(VECTOR_A, { signature: `v1,${literalKeyMac}` })).statusCode).toBe(401);
  });

  it.each(["id", "timestamp", "signature"] as const)("rejects a missing webhook-%s", (header) => {
    expect(rejection(() => verify(VECTOR_A, { [header]: "" })).statusCode).toBe(401);
  });

  // The reference verifier compares base64 strings (`expected = base64(HMAC)`), so only the exact
  // encoding of the MAC is a valid entry. Decoding the entry leniently accepts other strings too.
  it("accepts only the exact base64 encoding of the MAC (no trailing garbage, no non-canonical encoding)", () => {
    const trailingGarbage = `${VECTOR_A.signature}garbage`;
    const nonCanonical = VECTOR_A.signature.replace(/1OE=$/, "1OF="); // same 32 bytes, different string
    const unpadded = VECTOR_A.signature.replace(/=$/, ""); // a truncated header: its last character cut
    for (const signature of [trailingGarbage, nonCanonical, unpadded]) {
      expect(() => verify(VECTOR_A, { signature }), signature).toThrow(WebhookRejection);
    }
  });
});

describe("standard provider parse()", () => {
  const secrets = { standard: TEST_STANDARD_SECRET };
  const nowSeconds = Math.floor(Date.parse("2026-01-17T15:04:10Z") / 1000);
  const now = atSeconds(nowSeconds);
  const canonical = {
    transfer_id: "tx_12345",
    message_id: "msg-abc",
    channel: "rcs",
    event: "delivered",
    timestamp: "2026-01-17T15:04:05.123Z",
    provider: "cpaas@example",
    metadata: { carrier_status: "MCCMNC", delivery_code: 200 },
  };
  const parse = (payload: unknown, id = "msg_evt_1", options: { timestamp?: number; secret?: string; body?: string } = {}) => {
    const body = options.body ?? JSON.stringify(payload);
    const headers = standardHeaders(id, body, { timestamp: options.timestamp ?? nowSeconds, secret: options.secret });
    return standard.parse(Buffer.from(body), webhookRequest(headers), secrets, now);
  };

  it("normalizes the canonical event: upper-cased event and channel, own ids, webhook-id dedupe key", () => {
    const delivery = parse(canonical, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
    expect(delivery.templateUpdates).toEqual([]);
    expect(delivery.events).toHaveLength(1);
    expect(delivery.events[0]).toEqual({
      event: "DELIVERED",
      occurredAt: new Date("2026-01-17T15:04:05.123Z"),
      provider: "cpaas@example",
      channel: "RCS",
      correlation: { messageId: "msg-abc", transferId: "tx_12345" },
      dedupeKey: "standard:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
      carrier: "MCCMNC",
      metadata: { carrier_status: "MCCMNC", delivery_code: 200 },
      raw: expect.objectContaining({ transfer_id: "tx_12345", message_id: "msg-abc" }) as unknown,
    });
  });

  it("keeps the provider's time to the millisecond", () => {
    const [event] = parse({ ...canonical, timestamp: "2026-01-17T15:04:05.987Z" }).events;
    expect(event!.occurredAt.toISOString()).toBe("2026-01-17T15:04:05.987Z");
  });

  it("a retried attempt (same webhook-id, new timestamp) yields the same dedupe key", () => {
    const first = parse(canonical, "msg_retry", { timestamp: nowSeconds - 120 });
    const retry = parse(canonical, "msg_retry", { timestamp: nowSeconds });
    expect(retry.events[0]!.dedupeKey).toBe(first.events[0]!.dedupeKey);
    expect(parse(canonical, "msg_other").events[0]!.dedupeKey).not.toBe(first.events[0]!.dedupeKey);
  });

  it.each([
    ["sent", "SENT"],
    ["read", "READ"],
    ["failed", "FAILED"],
    ["revoked", "REVOKED"],
    ["action", "ACTION"],
    ["reply", "REPLY"],
    ["opt_out", "OPT_OUT"],
    ["complaint", "COMPLAINT"],
  ])("maps event %s to %s", (event, expected) => {
    expect(parse({ ...canonical, event }).events[0]!.event).toBe(expected);
  });

  it.each([
    ["sms", "SMS"],
    ["email", "EMAIL"],
    ["RCS", "RCS"],
  ])("maps channel %s to %s", (channel, expected) => {
    expect(parse({ ...canonical, channel }).events[0]!.channel).toBe(expected);
  });

  it("without metadata: empty metadata and no carrier", () => {
    const { metadata: _metadata, ...bare } = canonical;
    const [event] = parse(bare).events;
    expect(event!.metadata).toEqual({});
    expect(event!.carrier).toBeUndefined();
  });

  it("refuses everything when its secret is not configured (fail closed)", () => {
    const body = JSON.stringify(canonical);
    const error = rejection(() => standard.parse(Buffer.from(body), webhookRequest(standardHeaders("msg_x", body, { timestamp: nowSeconds })), {}, now));
    expect(error.statusCode).toBe(401);
  });

  it("verifies before parsing: a badly signed malformed body is 401, not 400", () => {
    const error = rejection(() => parse(undefined, "msg_x", { body: "{not json", secret: VECTOR_B.secret }));
    expect(error.statusCode).toBe(401);
  });

  it("rejects a timestamp outside the tolerance with 401", () => {
    expect(rejection(() => parse(canonical, "msg_x", { timestamp: nowSeconds - 301 })).statusCode).toBe(401);
    expect(rejection(() => parse(canonical, "msg_x", { timestamp: nowSeconds + 301 })).statusCode).toBe(401);
  });

  it.each([
    ["not JSON", undefined, "{not json", /JSON/],
    ["an unknown event", { ...canonical, event: "exploded" }, undefined, /event.*exploded/],
    ["an unknown channel", { ...canonical, channel: "fax" }, undefined, /channel.*fax/],
    ["no transfer_id", { ...canonical, transfer_id: undefined }, undefined, /transfer_id/],
    ["no message_id", { ...canonical, message_id: undefined }, undefined, /message_id/],
    ["no provider", { ...canonical, provider: undefined }, undefined, /provider/],
    ["a timestamp that is not a date", { ...canonical, timestamp: "yesterday" }, undefined, /timestamp/],
  ])("a well-signed body with %s is 400 with a message that names the problem", (_case, payload, body, reason) => {
    const error = rejection(() => parse(payload, "msg_x", { body }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(reason);
  });
});
