import { describe, expect, it } from "vitest";
import { enablex } from "../../../src/webhooks/providers/enablex.js";
import { TEST_ENABLEX_BASIC } from "../../helpers/server.js";
import { enablexAuthorization } from "../../helpers/webhooks.js";
import { onlyEvent, rejection, webhookRequest } from "../../helpers/parse-assertions.js";

/** The payloads of EnableX's RCS webhook documentation (the seed), verbatim. */
const seed = {
  text: {
    agent: "your-agent-name",
    phone: "+919876543210",
    request_id: "req_abc123",
    session_id: "sess_xyz789",
    type: "text",
    text: "I want to check my order status",
    timestamp: "2025-03-15T10:30:00.000Z",
  },
  file: {
    agent: "your-agent-name",
    phone: "+919876543210",
    request_id: "req_def456",
    session_id: "sess_xyz789",
    type: "file",
    file: {
      media: "image",
      image: {
        mimeType: "image/jpeg",
        fileSizeBytes: 245760,
        fileUri: "https://storage.rbm.example.com/files/abc123.jpg",
        fileName: "receipt.jpg",
      },
    },
    timestamp: "2025-03-15T10:31:00.000Z",
  },
  message: (status: string, failureReason = "") => ({
    phone: "+919876543210",
    agent: "your-agent-name",
    type: "message",
    message: { message_id: "msg_abc123def456", status, failure_reason: failureReason },
    timestamp: "2025-03-15T10:30:05.000Z",
  }),
  template: (status: string, comment: string) => ({
    agent: "your-agent-name",
    type: "template",
    template: { name: "order_update", status, type: "text", comment },
    timestamp: "2025-03-15T12:00:00.000Z",
  }),
  suggestionReply: {
    agent: "your-agent-name",
    phone: "+919876543210",
    request_id: "req_ghi789",
    session_id: "sess_xyz789",
    type: "suggestion",
    suggestion: { type: "reply", postback: "booking_confirmed_12345", text: "Confirm Booking" },
    timestamp: "2025-03-15T10:32:00.000Z",
  },
  suggestionAction: {
    agent: "your-agent-name",
    phone: "+919876543210",
    request_id: "req_jkl012",
    session_id: "sess_xyz789",
    type: "suggestion",
    suggestion: { type: "action", postback: "buy_headphones", text: "Buy Now" },
    timestamp: "2025-03-15T10:33:00.000Z",
  },
  location: {
    agent: "your-agent-name",
    phone: "+919876543210",
    request_id: "req_mno345",
    session_id: "sess_xyz789",
    type: "location",
    location: { latitude: "28.4595", longitude: "77.0266" },
    timestamp: "2025-03-15T10:34:00.000Z",
  },
  typing: {
    agent: "your-agent-name",
    phone: "+919876543210",
    message_id: "msg_typ789",
    type: "typing",
    timestamp: "2025-03-15T10:35:00.000Z",
  },
};

const secrets = { enablexBasic: TEST_ENABLEX_BASIC };
const now = new Date("2025-03-15T10:40:00.000Z");

/** `authorization: null` sends no Authorization header at all. */
function parse(payload: unknown, authorization: string | null = enablexAuthorization(), raw?: string) {
  const headers = authorization === null ? {} : { authorization };
  return enablex.parse(Buffer.from(raw ?? JSON.stringify(payload)), webhookRequest(headers), secrets, now);
}

function single(payload: unknown) {
  return onlyEvent(parse(payload));
}


describe("enablex parse() — the seed's payloads", () => {
  it("incoming text → REPLY correlated by phone, deduplicated by request_id", () => {
    const event = single(seed.text);
    expect(event).toMatchObject({
      event: "REPLY",
      channel: "RCS",
      occurredAt: new Date("2025-03-15T10:30:00.000Z"),
      correlation: { phone: "+919876543210" },
      dedupeKey: "enablex:req_abc123",
      metadata: { kind: "text", text: "I want to check my order status", session_id: "sess_xyz789" },
    });
    expect(event.correlation.providerMessageId).toBeUndefined();
    expect(event.correlation.transferId).toBeUndefined();
    expect(event.raw).toEqual(seed.text);
  });

  it("incoming file → REPLY with the file details kept", () => {
    const event = single(seed.file);
    expect(event).toMatchObject({
      event: "REPLY",
      channel: "RCS",
      correlation: { phone: "+919876543210" },
      dedupeKey: "enablex:req_def456",
      metadata: { kind: "file", file: seed.file.file },
    });
  });

  it.each(["SENT", "DELIVERED", "READ", "FAILED", "REVOKED"] as const)("message status %s → %s correlated by the provider's message id", (status) => {
    const event = single(seed.message(status));
    expect(event).toMatchObject({
      event: status,
      channel: "RCS",
      occurredAt: new Date("2025-03-15T10:30:05.000Z"),
      correlation: { providerMessageId: "msg_abc123def456" },
      metadata: {},
    });
    expect(event.correlation.phone).toBeUndefined();
    // No event id in this format: message id + event + provider time.
    expect(event.dedupeKey).toContain("msg_abc123def456");
    expect(event.dedupeKey).toContain(status);
    expect(event.dedupeKey).toContain("2025-03-15T10:30:05.000Z");
  });

  it("message statuses: a retried delivery repeats the key, another status or time does not", () => {
    const delivered = single(seed.message("DELIVERED")).dedupeKey;
    expect(single(seed.message("DELIVERED")).dedupeKey).toBe(delivered);
    expect(single(seed.message("READ")).dedupeKey).not.toBe(delivered);
    expect(single({ ...seed.message("DELIVERED"), timestamp: "2025-03-15T10:30:06.000Z" }).dedupeKey).not.toBe(delivered);
    expect(single({ ...seed.message("DELIVERED"), message: { message_id: "msg_other", status: "DELIVERED" } }).dedupeKey).not.toBe(delivered);
  });

  it("FAILED keeps its failure reason", () => {
    const event = single(seed.message("FAILED", "USER_NOT_RCS_CAPABLE"));
    expect(event.event).toBe("FAILED");
    expect(event.metadata).toEqual({ failure_reason: "USER_NOT_RCS_CAPABLE" });
  });

  it.each([
    ["approved", "Ok", "APPROVED"],
    ["rejected", "Promotional content is not allowed", "REJECTED"],
  ] as const)("template %s → a template update (%s), no receipt event", (status, comment, expected) => {
    const delivery = parse(seed.template(status, comment));
    expect(delivery.events).toEqual([]);
    expect(delivery.templateUpdates).toEqual([
      {
        provider: "enablex",
        name: "order_update",
        status: expected,
        comment,
        occurredAt: new Date("2025-03-15T12:00:00.000Z"),
        raw: seed.template(status, comment),
      },
    ]);
  });

  it("suggested reply → ACTION, with no transfer id when the postback is not Ackline's", () => {
    const event = single(seed.suggestionReply);
    expect(event).toMatchObject({
      event: "ACTION",
      channel: "RCS",
      correlation: { phone: "+919876543210" },
      dedupeKey: "enablex:req_ghi789",
      metadata: { suggestion_type: "reply", postback: "booking_confirmed_12345", text: "Confirm Booking" },
    });
    expect(event.correlation.transferId).toBeUndefined();
  });

  it("suggested action → ACTION", () => {
    const event = single(seed.suggestionAction);
    expect(event).toMatchObject({ event: "ACTION", dedupeKey: "enablex:req_jkl012", metadata: { suggestion_type: "action", postback: "buy_headphones" } });
  });

  it.each(["reply", "action"])('suggestion (%s) with Ackline\'s postback "download:tx_abc" correlates to transfer tx_abc', (type) => {
    const event = single({ ...seed.suggestionAction, suggestion: { type, postback: "download:tx_abc", text: "Download" } });
    expect(event.event).toBe("ACTION");
    expect(event.correlation.transferId).toBe("tx_abc");
    expect(event.metadata).toMatchObject({ postback: "download:tx_abc", suggestion_type: type });
  });

  it("a real Ackline transfer id (base64url, with - and _) survives the postback", () => {
    const event = single({ ...seed.suggestionAction, suggestion: { type: "action", postback: "view:tx_Ab-9_zQ", text: "View" } });
    expect(event.correlation.transferId).toBe("tx_Ab-9_zQ");
  });

  it("location → REPLY with the coordinates", () => {
    const event = single(seed.location);
    expect(event).toMatchObject({
      event: "REPLY",
      correlation: { phone: "+919876543210" },
      dedupeKey: "enablex:req_mno345",
      metadata: { kind: "location", location: { latitude: "28.4595", longitude: "77.0266" } },
    });
  });

  it("typing → TYPING, correlated by message id and phone", () => {
    const event = single(seed.typing);
    expect(event).toMatchObject({
      event: "TYPING",
      channel: "RCS",
      occurredAt: new Date("2025-03-15T10:35:00.000Z"),
      correlation: { providerMessageId: "msg_typ789", phone: "+919876543210" },
    });
    expect(event.dedupeKey).toContain("2025-03-15T10:35:00.000Z");
    expect(single({ ...seed.typing, timestamp: "2025-03-15T10:36:00.000Z" }).dedupeKey).not.toBe(event.dedupeKey);
  });

  it("every inbound kind has its own dedupe key (no collisions across the seed)", () => {
    const keys = [seed.text, seed.file, seed.message("DELIVERED"), seed.suggestionReply, seed.suggestionAction, seed.location, seed.typing].map(
      (payload) => single(payload).dedupeKey,
    );
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) expect(key.startsWith("enablex:")).toBe(true);
  });
});

describe("enablex parse() — Basic auth", () => {
  it.each([
    ["no Authorization header", null],
    ["an empty Basic header", "Basic "],
    ["a Bearer token", "Bearer abc.def.ghi"],
    ["the wrong password", enablexAuthorization("enablex:wrong-pass")],
    ["the wrong user", enablexAuthorization("someone:s3cret-pass")],
    ["the password alone", enablexAuthorization("s3cret-pass")],
    ["credentials with a trailing character", enablexAuthorization(`${TEST_ENABLEX_BASIC}x`)],
  ])("%s → 401", (_case, authorization) => {
    const error = rejection(() => parse(seed.message("DELIVERED"), authorization));
    expect(error.statusCode).toBe(401);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it("accepts the scheme name in any case", () => {
    const token = Buffer.from(TEST_ENABLEX_BASIC).toString("base64");
    expect(parse(seed.message("SENT"), `basic ${token}`).events).toHaveLength(1);
  });

  it("refuses everything when no credentials are configured (fail closed)", () => {
    const error = rejection(() => enablex.parse(Buffer.from(JSON.stringify(seed.text)), webhookRequest({ authorization: enablexAuthorization() }), {}, now));
    expect(error.statusCode).toBe(401);
    const empty = rejection(() => enablex.parse(Buffer.from(JSON.stringify(seed.text)), webhookRequest({ authorization: "Basic " }), { enablexBasic: "" }, now));
    expect(empty.statusCode).toBe(401);
  });

  it("checks credentials before the body: bad auth with a malformed body is 401", () => {
    expect(rejection(() => parse(undefined, enablexAuthorization("enablex:wrong"), "{not json")).statusCode).toBe(401);
  });
});

describe("enablex parse() — malformed bodies", () => {
  it.each([
    ["not JSON", undefined, "{not json", /JSON/],
    ["an empty body", undefined, "", /JSON/],
    ["a JSON array", [seed.text], undefined, /object/],
    ["an unknown type", { ...seed.text, type: "video" }, undefined, /type/],
    ["no type", { ...seed.text, type: undefined }, undefined, /type/],
    ["no timestamp", { ...seed.message("SENT"), timestamp: undefined }, undefined, /timestamp/],
    ["a timestamp that is not a date", { ...seed.message("SENT"), timestamp: "yesterday" }, undefined, /timestamp/],
    ["a message without message_id", { ...seed.message("SENT"), message: { status: "SENT" } }, undefined, /message_id/],
    ["a message with an unknown status", seed.message("PENDING"), undefined, /status/],
    ["a text without phone", { ...seed.text, phone: undefined }, undefined, /phone/],
    ["a text without request_id", { ...seed.text, request_id: undefined }, undefined, /request_id/],
    ["a suggestion without its suggestion", { ...seed.suggestionReply, suggestion: undefined }, undefined, /suggestion/],
    ["a location without longitude", { ...seed.location, location: { latitude: "28.4595" } }, undefined, /longitude/],
    ["a template with an unknown status", seed.template("pending", ""), undefined, /status/],
    ["a typing without phone", { ...seed.typing, phone: undefined }, undefined, /phone/],
  ])("%s → 400 naming the problem", (_case, payload, raw, reason) => {
    const error = rejection(() => parse(payload, enablexAuthorization(), raw));
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(reason);
  });
});

describe("EnableX opt-out keywords", () => {
  it.each(["STOP", "stop", " Unsubscribe ", "STOPALL", "quit."])("a reply of %j is an OPT_OUT from that phone", (text) => {
    const event = single({ ...seed.text, text });
    expect(event.event).toBe("OPT_OUT");
    expect(event.correlation).toEqual({ phone: seed.text.phone });
  });

  it.each(["stop by the office tomorrow", "please don't stop", "STOP!!!?"])("%j is an ordinary REPLY", (text) => {
    expect(single({ ...seed.text, text }).event).toBe("REPLY");
  });
});
