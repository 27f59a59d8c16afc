import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { WebhookSecrets } from "../../../src/webhooks/provider.js";
import { rbm } from "../../../src/webhooks/providers/rbm.js";
import { onlyEvent, rejection, webhookRequest } from "../../helpers/parse-assertions.js";
import { TEST_RBM_CLIENT_TOKEN } from "../../helpers/server.js";
import { rbmEnvelope, rbmSignature } from "../../helpers/webhooks.js";

/**
 * Google's documented agent events (RBM "Events", "Receive messages", UserEvent, UserMessage and
 * ServerEvent references), with their placeholders filled in.
 */
const phone = "+12223334444";
const agentId = "acme-transfers@rbm.goog";
const documented = {
  delivered: { senderPhoneNumber: phone, eventType: "DELIVERED", eventId: "MxABCdef123", messageId: "3f1c0e9a-6b1a-4b8e-9a43-2c1f0e5d7a11", sendTime: "2025-05-01T10:00:00.123Z", agentId },
  read: { senderPhoneNumber: phone, eventType: "READ", eventId: "MxRead456", messageId: "3f1c0e9a-6b1a-4b8e-9a43-2c1f0e5d7a11", sendTime: "2025-05-01T10:01:00.000Z", agentId },
  typing: { senderPhoneNumber: phone, eventType: "IS_TYPING", eventId: "MxTyping789", sendTime: "2025-05-01T10:02:00.000Z", agentId },
  revoked: { phoneNumber: phone, messageId: "3f1c0e9a-6b1a-4b8e-9a43-2c1f0e5d7a11", agentId, eventType: "TTL_EXPIRATION_REVOKED", eventId: "srv-ttl-1", sendTime: "2025-05-01T11:00:00.000Z" },
  revokeFailed: { phoneNumber: phone, messageId: "3f1c0e9a-6b1a-4b8e-9a43-2c1f0e5d7a11", agentId, eventType: "TTL_EXPIRATION_REVOKE_FAILED", eventId: "srv-ttl-2", sendTime: "2025-05-01T11:00:00.000Z" },
  suggestion: {
    senderPhoneNumber: phone,
    messageId: "MsXyz0001",
    sendTime: "2025-05-01T10:03:00.000Z",
    agentId,
    suggestionResponse: { postbackData: "download:tx_Ab-9_zQ", text: "Download", type: "ACTION" },
  },
  text: { senderPhoneNumber: phone, messageId: "MsText0002", sendTime: "2014-10-02T15:01:23.045123456Z", agentId, text: "Thanks, got it" },
  file: {
    senderPhoneNumber: phone,
    messageId: "MsFile0003",
    sendTime: "2025-05-01T10:05:00.000Z",
    agentId,
    userFile: { payload: { mimeType: "image/jpeg", fileSizeBytes: 245760, fileUri: "https://rcs-user-content.example.com/abc.jpg", fileName: "receipt.jpg" } },
  },
  location: { senderPhoneNumber: phone, messageId: "MsLoc0004", sendTime: "2025-05-01T10:06:00.000Z", agentId, location: { latitude: 37.422, longitude: -122.084 } },
};

const secrets: WebhookSecrets = { rbmClientToken: TEST_RBM_CLIENT_TOKEN };
const now = new Date("2025-05-01T12:00:00.000Z");
const publishTime = "2025-05-01T10:00:01.000Z";

/** Posts `event` in its Pub/Sub envelope, signed as Google signs it unless `signature` says otherwise (null: no header). */
function parse(event: Record<string, unknown>, signature?: string | null, options: { secrets?: WebhookSecrets } = {}) {
  const { body, data } = rbmEnvelope(event, { publishTime });
  const value = signature === undefined ? rbmSignature(data) : signature;
  return rbm.parse(Buffer.from(body), webhookRequest(value === null ? {} : { "x-goog-signature": value }), options.secrets ?? secrets, now);
}

const single = (event: Record<string, unknown>) => onlyEvent(parse(event));

describe("rbm parse() — the set-up handshake", () => {
  const handshake = (clientToken: string, parseSecrets = secrets) =>
    rbm.parse(Buffer.from(JSON.stringify({ clientToken, secret: "1234567890" })), webhookRequest({}), parseSecrets, now);

  it("Google's example: the matching client token is answered 200 with the secret as plain text, storing nothing", () => {
    expect(handshake("SJENCPGJESMGUFPY")).toEqual({ events: [], templateUpdates: [], reply: { contentType: "text/plain; charset=utf-8", body: "1234567890" } });
  });

  it.each([
    ["another client token", "SJENCPGJESMGUFPX"],
    ["a prefix of the client token", "SJENCPGJ"],
    ["an empty client token", ""],
  ])("%s is refused (401), and the secret is not echoed", (_case, clientToken) => {
    const error = rejection(() => handshake(clientToken));
    expect(error.statusCode).toBe(401);
    expect(error.message).not.toContain("1234567890");
  });

  it("no client token configured refuses even the handshake (fail closed)", () => {
    expect(rejection(() => handshake("SJENCPGJESMGUFPY", {})).statusCode).toBe(401);
  });

  it("a handshake without its secret is malformed", () => {
    const error = rejection(() => rbm.parse(Buffer.from(JSON.stringify({ clientToken: TEST_RBM_CLIENT_TOKEN })), webhookRequest({}), secrets, now));
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/secret/);
  });
});

describe("rbm parse() — X-Goog-Signature", () => {
  it("matches Google's sample verifier: base64 HMAC-SHA512 with the client token over base64-decoded message.data", () => {
    const { body } = rbmEnvelope(documented.delivered);
    // Google's sample, step for step: decode message.data, HMAC-SHA512 it with the client token, base64.
    const decoded = Buffer.from((JSON.parse(body) as { message: { data: string } }).message.data, "base64");
    const googleSample = createHmac("sha512", TEST_RBM_CLIENT_TOKEN).update(decoded).digest("base64");
    expect(onlyEvent(rbm.parse(Buffer.from(body), webhookRequest({ "x-goog-signature": googleSample }), secrets, now)).event).toBe("DELIVERED");
  });

  it.each([
    ["no X-Goog-Signature", null],
    ["an empty signature", ""],
    ["a signature made with another client token", rbmSignature(Buffer.from(JSON.stringify(documented.delivered)), "SJENCPGJESMGUFPX")],
    ["a signature over another event", rbmSignature(Buffer.from(JSON.stringify(documented.read)))],
    ["HMAC-SHA256 instead of SHA-512", createHmac("sha256", TEST_RBM_CLIENT_TOKEN).update(JSON.stringify(documented.delivered)).digest("base64")],
    ["the right signature in hex", createHmac("sha512", TEST_RBM_CLIENT_TOKEN).update(JSON.stringify(documented.delivered)).digest("hex")],
    ["the right signature with trailing garbage", `${rbmSignature(Buffer.from(JSON.stringify(documented.delivered)))}AA`],
  ])("%s → 401", (_case, signature) => {
    expect(rejection(() => parse(documented.delivered, signature)).statusCode).toBe(401);
  });

  it("a signature over the HTTP body (the envelope) instead of the decoded data is refused: Google signs the event", () => {
    const { body } = rbmEnvelope(documented.delivered);
    const overEnvelope = createHmac("sha512", TEST_RBM_CLIENT_TOKEN).update(body).digest("base64");
    const overBase64Text = createHmac("sha512", TEST_RBM_CLIENT_TOKEN)
      .update((JSON.parse(body) as { message: { data: string } }).message.data)
      .digest("base64");
    for (const signature of [overEnvelope, overBase64Text]) {
      expect(rejection(() => rbm.parse(Buffer.from(body), webhookRequest({ "x-goog-signature": signature }), secrets, now)).statusCode).toBe(401);
    }
  });

  it("no client token configured refuses every event (fail closed)", () => {
    expect(rejection(() => parse(documented.delivered, undefined, { secrets: {} })).statusCode).toBe(401);
    expect(rejection(() => parse(documented.delivered, undefined, { secrets: { rbmClientToken: "" } })).statusCode).toBe(401);
  });

  it("checks the signature before reading the event: a bad signature over garbage data is 401", () => {
    const body = JSON.stringify({ message: { data: Buffer.from("{not json").toString("base64"), messageId: "1" } });
    expect(rejection(() => rbm.parse(Buffer.from(body), webhookRequest({ "x-goog-signature": "bad" }), secrets, now)).statusCode).toBe(401);
  });
});

describe("rbm parse() — user events", () => {
  it("DELIVERED → DELIVERED on the agent message it names, deduplicated by (eventId, senderPhoneNumber)", () => {
    expect(single(documented.delivered)).toEqual({
      event: "DELIVERED",
      occurredAt: new Date("2025-05-01T10:00:00.123Z"),
      channel: "RCS",
      correlation: { providerMessageId: documented.delivered.messageId },
      dedupeKey: `rbm:event:${phone}:MxABCdef123`,
      metadata: { event_type: "DELIVERED" },
      raw: documented.delivered,
    });
  });

  it("READ → READ", () => {
    const event = single(documented.read);
    expect(event).toMatchObject({ event: "READ", correlation: { providerMessageId: documented.read.messageId }, dedupeKey: `rbm:event:${phone}:MxRead456` });
  });

  it("IS_TYPING → TYPING from that phone (Google sets no messageId on it)", () => {
    const event = single(documented.typing);
    expect(event).toMatchObject({ event: "TYPING", correlation: { phone }, occurredAt: new Date("2025-05-01T10:02:00.000Z") });
    expect(event.correlation.providerMessageId).toBeUndefined();
  });

  it("UNSUBSCRIBE (documented as future) → OPT_OUT from that phone; SUBSCRIBE is acknowledged, nothing stored", () => {
    expect(single({ ...documented.typing, eventType: "UNSUBSCRIBE", eventId: "MxUnsub" })).toMatchObject({ event: "OPT_OUT", correlation: { phone } });
    expect(parse({ ...documented.typing, eventType: "SUBSCRIBE", eventId: "MxSub" })).toEqual({ events: [], templateUpdates: [] });
  });

  it("dedupe: a retry repeats the key; another event id or another phone with the same event id does not", () => {
    const key = single(documented.delivered).dedupeKey;
    expect(single(documented.delivered).dedupeKey).toBe(key);
    expect(single({ ...documented.delivered, eventId: "MxOther" }).dedupeKey).not.toBe(key);
    expect(single({ ...documented.delivered, senderPhoneNumber: "+12223335555" }).dedupeKey).not.toBe(key);
  });

  it("without sendTime the Pub/Sub publishTime is the event time", () => {
    const { sendTime: _sendTime, ...untimed } = documented.delivered;
    expect(single(untimed).occurredAt).toEqual(new Date(publishTime));
  });
});

describe("rbm parse() — server events", () => {
  it("TTL_EXPIRATION_REVOKED → REVOKED on that message (a fallback trigger), deduplicated by Google's eventId", () => {
    expect(single(documented.revoked)).toEqual({
      event: "REVOKED",
      occurredAt: new Date("2025-05-01T11:00:00.000Z"),
      channel: "RCS",
      correlation: { providerMessageId: documented.revoked.messageId },
      dedupeKey: "rbm:server:srv-ttl-1",
      metadata: { event_type: "TTL_EXPIRATION_REVOKED" },
      raw: documented.revoked,
    });
  });

  it("TTL_EXPIRATION_REVOKE_FAILED is acknowledged with nothing stored: the message may still arrive", () => {
    expect(parse(documented.revokeFailed)).toEqual({ events: [], templateUpdates: [] });
  });
});

describe("rbm parse() — user messages", () => {
  it("a tapped suggestion → ACTION; Ackline's postback names the transfer", () => {
    expect(single(documented.suggestion)).toEqual({
      event: "ACTION",
      occurredAt: new Date("2025-05-01T10:03:00.000Z"),
      channel: "RCS",
      correlation: { transferId: "tx_Ab-9_zQ", phone },
      dedupeKey: `rbm:message:${phone}:MsXyz0001`,
      metadata: { suggestion_type: "ACTION", postback: "download:tx_Ab-9_zQ", text: "Download" },
      raw: documented.suggestion,
    });
  });

  it("a suggested reply whose postback is not Ackline's → ACTION with no transfer", () => {
    const event = single({ ...documented.suggestion, suggestionResponse: { postbackData: "confirm_appt_1043", text: "Confirm", type: "REPLY" } });
    expect(event.event).toBe("ACTION");
    expect(event.correlation).toEqual({ transferId: undefined, phone });
  });

  it("text → REPLY from that phone, to the millisecond of a nanosecond sendTime", () => {
    expect(single(documented.text)).toMatchObject({
      event: "REPLY",
      occurredAt: new Date("2014-10-02T15:01:23.045Z"),
      correlation: { phone },
      dedupeKey: `rbm:message:${phone}:MsText0002`,
      metadata: { kind: "text", text: "Thanks, got it" },
    });
  });

  it.each(["STOP", "unsubscribe", " Stop. "])("text %j → OPT_OUT", (text) => {
    expect(single({ ...documented.text, text }).event).toBe("OPT_OUT");
  });

  it("a file and a location → REPLY with their content", () => {
    expect(single(documented.file)).toMatchObject({ event: "REPLY", metadata: { kind: "file", file: documented.file.userFile } });
    expect(single(documented.location)).toMatchObject({ event: "REPLY", metadata: { kind: "location", location: documented.location.location } });
  });

  it("every documented kind has its own dedupe key", () => {
    const keys = [documented.delivered, documented.read, documented.typing, documented.revoked, documented.suggestion, documented.text, documented.file].map(
      (event) => single(event).dedupeKey,
    );
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("rbm parse() — malformed deliveries → 400", () => {
  const signedEnvelope = (message: Record<string, unknown>) => {
    const data = typeof message.data === "string" ? Buffer.from(message.data, "base64") : Buffer.alloc(0);
    return rbm.parse(Buffer.from(JSON.stringify({ message })), webhookRequest({ "x-goog-signature": rbmSignature(data) }), secrets, now);
  };

  it.each([
    ["not JSON", () => rbm.parse(Buffer.from("{not json"), webhookRequest({}), secrets, now), /JSON/],
    ["a JSON array", () => rbm.parse(Buffer.from("[]"), webhookRequest({}), secrets, now), /body/],
    ["neither a Pub/Sub push nor the handshake", () => rbm.parse(Buffer.from('{"hello":1}'), webhookRequest({}), secrets, now), /message/],
    ["an envelope without data", () => signedEnvelope({ messageId: "1" }), /message\.data/],
    ["signed data that is not JSON", () => signedEnvelope({ data: Buffer.from("{oops").toString("base64") }), /message\.data/],
    ["signed data that is a JSON array", () => signedEnvelope({ data: Buffer.from("[1]").toString("base64") }), /message\.data/],
    ["an unknown eventType", () => parse({ ...documented.delivered, eventType: "EXPLODED" }), /EXPLODED/],
    ["DELIVERED without messageId", () => parse({ ...documented.delivered, messageId: undefined }), /messageId/],
    ["a user event without eventId", () => parse({ ...documented.read, eventId: undefined }), /eventId/],
    ["a server event without messageId", () => parse({ ...documented.revoked, messageId: undefined }), /messageId/],
    ["a user message without content", () => parse({ senderPhoneNumber: phone, messageId: "MsEmpty", agentId }), /text, userFile/],
    ["a user message without senderPhoneNumber", () => parse({ ...documented.text, senderPhoneNumber: undefined }), /senderPhoneNumber/],
    ["a sendTime that is not a date", () => parse({ ...documented.text, sendTime: "yesterday" }), /timestamp/],
  ])("%s", (_case, call, reason) => {
    const error = rejection(call);
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(reason);
  });
});
