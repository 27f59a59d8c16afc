import { createHash } from "node:crypto";
import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { vonage } from "../../../src/webhooks/providers/vonage.js";
import { TEST_VONAGE_SIGNATURE_SECRET } from "../../helpers/server.js";
import { vonageAuthorization } from "../../helpers/webhooks.js";
import { asyncRejection, onlyEvent, webhookRequest } from "../../helpers/parse-assertions.js";

const secrets = { vonageSignatureSecret: TEST_VONAGE_SIGNATURE_SECRET };
const now = new Date("2025-02-03T12:15:00.000Z");
const nowSeconds = Math.floor(now.getTime() / 1000);

/** The documented status webhook (provider facts §5), with Ackline's client_ref. */
const rejectedRcs = {
  message_uuid: "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
  to: "447700900000",
  from: "Vonage",
  timestamp: "2025-02-03T12:14:25Z",
  status: "rejected",
  channel: "rcs",
  client_ref: "msg_abc123",
  error: { type: "https://developer.vonage.com/api-errors/messages#1xxx", title: "1xxx", detail: "TTL expired" },
};

async function parse(payload: unknown, options: { body?: string; authorization?: string | null; issuedAt?: number; secret?: string } = {}) {
  const body = options.body ?? JSON.stringify(payload);
  const authorization =
    options.authorization === undefined ? await vonageAuthorization(body, { issuedAt: options.issuedAt ?? nowSeconds - 2 }) : options.authorization;
  const headers = authorization === null ? {} : { authorization };
  return vonage.parse(Buffer.from(body), webhookRequest(headers), options.secret === undefined ? secrets : { vonageSignatureSecret: options.secret }, now);
}

const single = async (payload: unknown) => onlyEvent(await parse(payload));
const refusal = async (payload: unknown, options: Parameters<typeof parse>[1] = {}) => asyncRejection(parse(payload, options));

describe("vonage parse() — status webhooks", () => {
  it("normalizes a documented rejection completely", async () => {
    expect(await single(rejectedRcs)).toEqual({
      event: "FAILED",
      occurredAt: new Date("2025-02-03T12:14:25Z"),
      channel: "RCS",
      correlation: { providerMessageId: rejectedRcs.message_uuid, messageId: "msg_abc123" },
      dedupeKey: `vonage:${rejectedRcs.message_uuid}:rejected`,
      metadata: { status: "rejected", error: rejectedRcs.error },
      raw: rejectedRcs,
    });
  });

  it.each([
    ["submitted", "SENT"],
    ["delivered", "DELIVERED"],
    ["read", "READ"],
    ["rejected", "FAILED"],
    ["undeliverable", "FAILED"],
  ])("status %s → %s", async (status, expected) => {
    const event = await single({ ...rejectedRcs, status, error: undefined });
    expect(event.event).toBe(expected);
    expect(event.dedupeKey).toBe(`vonage:${rejectedRcs.message_uuid}:${status}`);
    expect(event.metadata).toEqual({ status });
  });

  it("channel sms → SMS; without client_ref it correlates by message_uuid alone", async () => {
    const { client_ref: _ref, ...sms } = { ...rejectedRcs, channel: "sms", status: "delivered" };
    const event = await single(sms);
    expect(event.channel).toBe("SMS");
    expect(event.correlation).toEqual({ providerMessageId: rejectedRcs.message_uuid });
  });

  it("keeps fields Ackline does not read (usage, workflow) in the raw payload", async () => {
    const payload = { ...rejectedRcs, usage: { currency: "EUR", price: "0.0333" }, workflow: { workflow_id: "w1", item_number: "1", items_number: "2" } };
    expect((await single(payload)).raw).toEqual(payload);
  });

  it("dedupe: a retried callback repeats the key; another status does not", async () => {
    const first = (await single(rejectedRcs)).dedupeKey;
    expect((await single(rejectedRcs)).dedupeKey).toBe(first);
    expect((await single({ ...rejectedRcs, status: "delivered" })).dedupeKey).not.toBe(first);
  });
});

describe("vonage parse() — inbound messages", () => {
  const inbound = {
    channel: "rcs",
    message_uuid: "bbbbbbbb-cccc-4ddd-8eee-0123456789ab",
    to: "AckTransfersAgent",
    from: "447700900000",
    timestamp: "2025-02-03T12:14:30Z",
    message_type: "text",
    text: "Got it, thanks",
  };

  it("a text is a REPLY from the phone, in E.164 with its +", async () => {
    expect(await single(inbound)).toEqual({
      event: "REPLY",
      occurredAt: new Date("2025-02-03T12:14:30Z"),
      channel: "RCS",
      correlation: { phone: "+447700900000" },
      dedupeKey: `vonage:${inbound.message_uuid}:inbound`,
      metadata: { kind: "text", text: "Got it, thanks" },
      raw: inbound,
    });
  });

  it.each([["STOP"], ["Stop."], ["unsubscribe"]])("the keyword %j is an OPT_OUT", async (text) => {
    expect((await single({ ...inbound, channel: "sms", text })).event).toBe("OPT_OUT");
  });

  it("a tapped suggested reply and a suggested action are ACTIONs on the transfer their postback names", async () => {
    const reply = await single({ ...inbound, message_type: "reply", text: undefined, reply: { id: "download:tx_AbC123", title: "Download" } });
    expect(reply).toMatchObject({
      event: "ACTION",
      correlation: { transferId: "tx_AbC123", phone: "+447700900000" },
      metadata: { kind: "reply", postback: "download:tx_AbC123", text: "Download" },
    });
    const button = await single({ ...inbound, message_type: "button", text: undefined, button: { payload: "open:tx_AbC123", text: "Open" } });
    expect(button).toMatchObject({ event: "ACTION", correlation: { transferId: "tx_AbC123" }, metadata: { kind: "button", postback: "open:tx_AbC123" } });
  });

  it("other inbound content (an image) is a REPLY naming its kind", async () => {
    const event = await single({ ...inbound, message_type: "image", text: undefined, image: { url: "https://example.test/a.jpg" } });
    expect(event).toMatchObject({ event: "REPLY", metadata: { kind: "image" } });
  });
});

describe("vonage parse() — signature", () => {
  it("accepts a token issued up to a day ago (a retry may reuse it) and one up to 5 minutes ahead (clock skew)", async () => {
    expect((await parse(rejectedRcs, { issuedAt: nowSeconds - 23 * 3600 })).events).toHaveLength(1);
    expect((await parse(rejectedRcs, { issuedAt: nowSeconds + 240 })).events).toHaveLength(1);
  });

  it("an unsigned callback is 503, so Vonage retries it (it may send one unsigned after an internal error)", async () => {
    const error = await refusal(rejectedRcs, { authorization: null });
    expect(error.statusCode).toBe(503);
  });

  it.each([
    ["made with another secret", () => vonageAuthorization(JSON.stringify(rejectedRcs), { secret: "not-the-secret", issuedAt: nowSeconds })],
    ["over another body (payload_hash)", () => vonageAuthorization(JSON.stringify({ ...rejectedRcs, status: "delivered" }), { issuedAt: nowSeconds })],
    ["issued more than a day ago", () => vonageAuthorization(JSON.stringify(rejectedRcs), { issuedAt: nowSeconds - 25 * 3600 })],
    ["issued more than 5 minutes ahead", () => vonageAuthorization(JSON.stringify(rejectedRcs), { issuedAt: nowSeconds + 600 })],
    ["without payload_hash", async () => `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setIssuedAt(nowSeconds).sign(new TextEncoder().encode(TEST_VONAGE_SIGNATURE_SECRET))}`],
    [
      "without iat",
      async () => {
        const claims = { payload_hash: createHash("sha256").update(JSON.stringify(rejectedRcs)).digest("hex") };
        return `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(TEST_VONAGE_SIGNATURE_SECRET))}`;
      },
    ],
    ["unsecured (alg none)", async () => `Bearer ${new UnsecuredJWT({ payload_hash: "x" }).setIssuedAt(nowSeconds).encode()}`],
    ["HS512 rather than HS256", async () => `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: "HS512" }).setIssuedAt(nowSeconds).sign(new TextEncoder().encode(TEST_VONAGE_SIGNATURE_SECRET))}`],
    ["not a JWT", async () => "Bearer not-a-jwt"],
    ["not Bearer", async () => `Basic ${Buffer.from("a1b2c3d:secret").toString("base64")}`],
  ])("a token %s → 401", async (_case, authorization) => {
    expect((await refusal(rejectedRcs, { authorization: await authorization() })).statusCode).toBe(401);
  });

  it("refuses everything when no signature secret is configured (fail closed)", async () => {
    for (const secret of ["", undefined]) {
      const body = JSON.stringify(rejectedRcs);
      const headers = { authorization: await vonageAuthorization(body, { issuedAt: nowSeconds }) };
      const error = await asyncRejection(vonage.parse(Buffer.from(body), webhookRequest(headers), { vonageSignatureSecret: secret }, now));
      expect(error.statusCode).toBe(401);
    }
  });

  it("verifies before parsing: a badly signed malformed body is 401, not 400", async () => {
    expect((await refusal(undefined, { body: "{not json", authorization: "Bearer x.y.z" })).statusCode).toBe(401);
  });
});

describe("vonage parse() — malformed bodies", () => {
  it.each([
    ["not JSON", undefined, "{not json", /JSON/],
    ["an unknown status, named", { ...rejectedRcs, status: "evaporated" }, undefined, /"evaporated"/],
    ["a channel Ackline does not send on", { ...rejectedRcs, channel: "whatsapp" }, undefined, /whatsapp/],
    ["no message_uuid", { ...rejectedRcs, message_uuid: undefined }, undefined, /message_uuid/],
    ["a timestamp that is not a date", { ...rejectedRcs, timestamp: "soon" }, undefined, /timestamp/],
    ["neither status nor message_type", { ...rejectedRcs, status: undefined }, undefined, /status.*message_type/],
    ["an inbound message without from", { ...rejectedRcs, status: undefined, from: undefined, message_type: "text", text: "hi" }, undefined, /from/],
  ])("correctly signed, %s → 400 naming the problem", async (_case, payload, body, reason) => {
    const error = await refusal(payload, { body });
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(reason);
  });
});
