import { createHmac } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { ConversationCallbackWebhooks } from "@sinch/sdk-core";
import { describe, expect, it } from "vitest";
import type { WebhookSecrets } from "../../../src/webhooks/provider.js";
import { sinch } from "../../../src/webhooks/providers/sinch.js";
import { onlyEvent, rejection, webhookRequest } from "../../helpers/parse-assertions.js";
import { TEST_SINCH_SECRET } from "../../helpers/server.js";
import { sinchHeaders } from "../../helpers/webhooks.js";

/** Sinch's documented callbacks (Conversation API channel support pages: RCS delivery reports, Sinch Chat inbound). */
const deliveredRcs = {
  app_id: "01H0MFFJFX0YAWYA5XG4D3MRTA",
  accepted_time: "2023-06-13T09:48:57.319Z",
  event_time: "2023-06-13T09:49:00.887336Z",
  project_id: "517ccc41-7c1a-4dfe-af03-dfe804116121",
  message_delivery_report: {
    message_id: "01H2T2H437XD18TAFQJYBKJM4C",
    conversation_id: "",
    status: "DELIVERED",
    channel_identity: { channel: "RCS", identity: "916284458847", app_id: "01H0MFFJFX0YAWYA5XG4D3MRTA" },
    contact_id: "",
    metadata: "",
    processing_mode: "DISPATCH",
  },
  message_metadata: "",
};
const failedRcs = {
  app_id: "01H0MFFJFX0YAWYA5XG4D3MRTA",
  accepted_time: "2023-06-13T09:49:35.922Z",
  event_time: "2023-06-13T09:49:36.957Z",
  project_id: "517ccc41-7c1a-4dfe-af03-dfe804116121",
  message_delivery_report: {
    message_id: "01H2T2J9SJBQM8B27A0CMGCNCD",
    conversation_id: "",
    status: "FAILED",
    channel_identity: { channel: "RCS", identity: "919319304893", app_id: "01H0MFFJFX0YAWYA5XG4D3MRTA" },
    contact_id: "",
    reason: { code: "UNKNOWN", description: "The underlying channel reported: Unknown channel error", sub_code: "UNSPECIFIED_SUB_CODE" },
    metadata: "",
    processing_mode: "DISPATCH",
  },
  message_metadata: "",
};
const inbound = (contactMessage: Record<string, unknown>) => ({
  app_id: "01E3S8B6YCMRNR0GGM94H80ACX",
  accepted_time: "2020-04-24T08:02:50.184581Z",
  message: {
    id: "01E6NKBV63YG6K01ENEW7S1N80",
    direction: "TO_APP",
    contact_message: contactMessage,
    channel_identity: { channel: "RCS", identity: "46732001122", app_id: "01E3S8B6YCMRNR0GGM94H80ACX" },
    conversation_id: "01E6NKBTFEWE3C2VR1K4MN4VHB",
    contact_id: "01E6NKBTEB6BX6Y3A3C9B3S1JC",
    metadata: "",
    accept_time: "2020-04-24T08:02:49.921Z",
  },
  message_metadata: "",
});

const secrets: WebhookSecrets = { sinchSecret: TEST_SINCH_SECRET };
const now = new Date("2023-06-13T09:50:00.000Z");
const nowSeconds = Math.floor(now.getTime() / 1000);

function parse(payload: unknown, options: { body?: string; headers?: IncomingHttpHeaders; secrets?: WebhookSecrets; at?: Date } = {}) {
  const body = options.body ?? JSON.stringify(payload);
  const headers = options.headers ?? sinchHeaders(body, { timestamp: nowSeconds - 1 });
  return sinch.parse(Buffer.from(body), webhookRequest(headers), options.secrets ?? secrets, options.at ?? now);
}
const single = (payload: unknown) => onlyEvent(parse(payload));
const delivery = (status: string, channel = "RCS") => ({
  ...deliveredRcs,
  message_delivery_report: { ...deliveredRcs.message_delivery_report, status, channel_identity: { ...deliveredRcs.message_delivery_report.channel_identity, channel } },
});

describe("sinch parse() — the signature, cross-checked with Sinch's SDK", () => {
  it("Sinch's own test vector (from its .NET SDK) verifies here and in the official Node SDK", () => {
    const body =
      '{"app_id":"","accepted_time":"2021-10-18T17:49:13.813615Z","project_id":"e2df3a34-a71b-4448-9db5-a8d2baad28e4","contact_create_notification":{"contact":{"id":"01FJA8B466Y0R2GNXD78MD9SM1","channel_identities":[{"channel":"SMS","identity":"48123456789","app_id":""}],"display_name":"New Test Contact","email":"new.contact@email.com","external_id":"","metadata":"","language":"EN_US"}},"message_metadata":""}';
    const headers = {
      "x-sinch-webhook-signature-nonce": "01FJA8B4A7BM43YGWSG9GBV067",
      "x-sinch-webhook-signature-timestamp": "1634579353",
      "x-sinch-webhook-signature": "6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE=",
    };
    expect(new ConversationCallbackWebhooks("foo_secret1234").validateAuthenticationHeader(headers, body)).toBe(true);
    // A contact notification is no event of Ackline's: verified, acknowledged, nothing stored.
    const verified = sinch.parse(Buffer.from(body), webhookRequest(headers), { sinchSecret: "foo_secret1234" }, new Date(1634579353_000 + 30_000));
    expect(verified).toEqual({ events: [], templateUpdates: [] });
    expect(rejection(() => sinch.parse(Buffer.from(body), webhookRequest(headers), { sinchSecret: "foo_secret1235" }, new Date(1634579353_000))).statusCode).toBe(401);
  });

  it("the signature the tests send is the one Sinch's SDK accepts, and a tampered body fails both", () => {
    const body = JSON.stringify(deliveredRcs);
    const headers = sinchHeaders(body, { timestamp: nowSeconds });
    const official = new ConversationCallbackWebhooks(TEST_SINCH_SECRET);
    expect(official.validateAuthenticationHeader(headers, body)).toBe(true);
    expect(parse(undefined, { body, headers }).events).toHaveLength(1);
    const tampered = body.replace("DELIVERED", "READ");
    expect(official.validateAuthenticationHeader(headers, tampered)).toBe(false);
    expect(rejection(() => parse(undefined, { body: tampered, headers })).statusCode).toBe(401);
  });

  it("accepts HmacSHA512 when the algorithm header says so", () => {
    const body = JSON.stringify(deliveredRcs);
    const headers = {
      ...sinchHeaders(body, { timestamp: nowSeconds, nonce: "n-512" }),
      "x-sinch-webhook-signature-algorithm": "HmacSHA512",
      "x-sinch-webhook-signature": createHmac("sha512", TEST_SINCH_SECRET).update(`${body}.n-512.${nowSeconds}`).digest("base64"),
    };
    expect(parse(undefined, { body, headers }).events).toHaveLength(1);
  });

  const body = JSON.stringify(deliveredRcs);
  const signed = (options: Parameters<typeof sinchHeaders>[1] = {}) => sinchHeaders(body, { timestamp: nowSeconds, nonce: "nonce-1", ...options });
  const without = (name: string) => Object.fromEntries(Object.entries(signed()).filter(([header]) => header !== name));

  it.each([
    ["no signature", without("x-sinch-webhook-signature")],
    ["no nonce", without("x-sinch-webhook-signature-nonce")],
    ["no timestamp", without("x-sinch-webhook-signature-timestamp")],
    ["another secret", signed({ secret: "another-secret" })],
    ["another nonce than the one signed", { ...signed(), "x-sinch-webhook-signature-nonce": "nonce-2" }],
    ["another timestamp than the one signed", { ...signed(), "x-sinch-webhook-signature-timestamp": String(nowSeconds - 1) }],
    ["the body alone signed", { ...signed(), "x-sinch-webhook-signature": createHmac("sha256", TEST_SINCH_SECRET).update(body).digest("base64") }],
    ["the signature with trailing garbage", { ...signed(), "x-sinch-webhook-signature": `${signed()["x-sinch-webhook-signature"]}AA` }],
    ["an algorithm Sinch does not use", { ...signed(), "x-sinch-webhook-signature-algorithm": "HmacMD5" }],
    ["a timestamp 6 minutes old", signed({ timestamp: nowSeconds - 360 })],
    ["a timestamp 6 minutes ahead", signed({ timestamp: nowSeconds + 360 })],
    ["a timestamp in milliseconds", signed({ timestamp: now.getTime() })],
  ])("%s → 401", (_case, headers) => {
    const error = rejection(() => parse(undefined, { body, headers }));
    expect(error.statusCode).toBe(401);
  });

  it("a valid signature replayed past the 5-minute window is refused, just inside it accepted", () => {
    const headers = signed();
    expect(parse(undefined, { body, headers, at: new Date(now.getTime() + 299_000) }).events).toHaveLength(1);
    const stale = rejection(() => parse(undefined, { body, headers, at: new Date(now.getTime() + 301_000) }));
    expect(stale.statusCode).toBe(401);
    expect(stale.message).toMatch(/tolerance/);
  });

  it("no secret configured refuses everything (fail closed)", () => {
    expect(rejection(() => parse(deliveredRcs, { secrets: {} })).statusCode).toBe(401);
    expect(rejection(() => parse(deliveredRcs, { secrets: { sinchSecret: "" } })).statusCode).toBe(401);
  });

  it("checks the signature before the body: a bad signature on a malformed body is 401", () => {
    expect(rejection(() => parse(undefined, { body: "{not json", headers: signed() })).statusCode).toBe(401);
  });
});

describe("sinch parse() — delivery reports", () => {
  it("normalizes the documented DELIVERED report completely", () => {
    expect(single(deliveredRcs)).toEqual({
      event: "DELIVERED",
      occurredAt: new Date("2023-06-13T09:49:00.887Z"),
      channel: "RCS",
      correlation: { providerMessageId: "01H2T2H437XD18TAFQJYBKJM4C" },
      dedupeKey: "sinch:01H2T2H437XD18TAFQJYBKJM4C:RCS:DELIVERED",
      metadata: { status: "DELIVERED" },
      raw: deliveredRcs,
    });
  });

  it("FAILED keeps Sinch's reason", () => {
    const event = single(failedRcs);
    expect(event.event).toBe("FAILED");
    expect(event.metadata).toEqual({ status: "FAILED", reason: failedRcs.message_delivery_report.reason });
  });

  it.each([
    ["QUEUED_ON_CHANNEL", "QUEUED"],
    ["SWITCHING_CHANNEL", "QUEUED"],
    ["DELIVERED", "DELIVERED"],
    ["READ", "READ"],
    ["FAILED", "FAILED"],
  ])("status %s → %s", (status, expected) => {
    const event = single(delivery(status));
    expect(event.event).toBe(expected);
    expect(event.metadata).toEqual({ status });
  });

  it("Sinch's channel fallback: the same status on another channel is another event; a retry is a duplicate", () => {
    const onRcs = single(delivery("QUEUED_ON_CHANNEL", "RCS"));
    const onSms = single(delivery("QUEUED_ON_CHANNEL", "SMS"));
    expect(onSms.channel).toBe("SMS");
    expect(onSms.dedupeKey).not.toBe(onRcs.dedupeKey);
    expect(single(delivery("QUEUED_ON_CHANNEL", "RCS")).dedupeKey).toBe(onRcs.dedupeKey);
  });

  it("a correlation_id given at send names Ackline's message", () => {
    expect(single({ ...deliveredRcs, correlation_id: "msg_abc123" }).correlation).toEqual({ providerMessageId: "01H2T2H437XD18TAFQJYBKJM4C", messageId: "msg_abc123" });
  });

  it("without event_time the time Sinch accepted the callback is the event time", () => {
    const { event_time: _eventTime, ...untimed } = deliveredRcs;
    expect(single(untimed).occurredAt).toEqual(new Date("2023-06-13T09:48:57.319Z"));
  });
});

describe("sinch parse() — inbound messages", () => {
  it("text → REPLY from the E.164 phone, deduplicated by Sinch's message id", () => {
    const payload = inbound({ text_message: { text: "Hello, I need help with my order" } });
    expect(single(payload)).toEqual({
      event: "REPLY",
      occurredAt: new Date("2020-04-24T08:02:49.921Z"),
      channel: "RCS",
      correlation: { phone: "+46732001122" },
      dedupeKey: "sinch:inbound:01E6NKBV63YG6K01ENEW7S1N80",
      metadata: { kind: "text", text: "Hello, I need help with my order" },
      raw: payload,
    });
  });

  it.each(["STOP", "stop", "Unsubscribe"])("text %j → OPT_OUT", (text) => {
    expect(single(inbound({ text_message: { text } })).event).toBe("OPT_OUT");
  });

  it("a choice response → ACTION on the message it was offered in; Ackline's postback names the transfer", () => {
    const event = single(inbound({ choice_response_message: { message_id: "01FVAWD1JP5PPB3KEZCBKGN0ES", postback_data: "download:tx_Ab-9_zQ" } }));
    expect(event).toMatchObject({
      event: "ACTION",
      correlation: { providerMessageId: "01FVAWD1JP5PPB3KEZCBKGN0ES", transferId: "tx_Ab-9_zQ", phone: "+46732001122" },
      metadata: { kind: "choice_response", postback: "download:tx_Ab-9_zQ" },
    });
  });

  it("media and location → REPLY with their content", () => {
    const media = { url: "https://example.com/image.jpg", thumbnail_url: "https://example.com/thumb.jpg" };
    expect(single(inbound({ media_message: media }))).toMatchObject({ event: "REPLY", metadata: { kind: "media", media_message: media } });
    const location = { title: "My Location", coordinates: { latitude: 37.7749, longitude: -122.4194 } };
    expect(single(inbound({ location_message: location }))).toMatchObject({ event: "REPLY", metadata: { kind: "location", location_message: location } });
  });

  it("a correlation_id names Ackline's message for a reply too", () => {
    expect(single({ ...inbound({ text_message: { text: "ok" } }), correlation_id: "msg_abc123" }).correlation).toEqual({ messageId: "msg_abc123", phone: "+46732001122" });
  });
});

describe("sinch parse() — malformed callbacks → 400", () => {
  it.each([
    ["not JSON", "{not json", /JSON/],
    ["a JSON array", "[]", /body/],
    ["no app_id", JSON.stringify({ message_delivery_report: deliveredRcs.message_delivery_report }), /app_id/],
    ["an unknown status", JSON.stringify(delivery("EVAPORATED")), /EVAPORATED/],
    ["a channel Ackline does not send on", JSON.stringify(delivery("DELIVERED", "WHATSAPP")), /WHATSAPP/],
    [
      "a report without message_id",
      JSON.stringify({ ...deliveredRcs, message_delivery_report: { ...deliveredRcs.message_delivery_report, message_id: undefined } }),
      /message_id/,
    ],
    ["an inbound message without contact_message", JSON.stringify({ ...inbound({}), message: { ...inbound({}).message, contact_message: undefined } }), /contact_message/],
    ["an empty contact_message", JSON.stringify(inbound({})), /contact_message/],
    ["an event_time that is not a date", JSON.stringify({ ...deliveredRcs, event_time: "yesterday" }), /timestamp/],
  ])("%s", (_case, body, reason) => {
    const error = rejection(() => parse(undefined, { body }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(reason);
  });
});
