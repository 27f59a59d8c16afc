import { describe, expect, it } from "vitest";
import { twilio } from "../../../src/webhooks/providers/twilio.js";
import { TEST_TWILIO_AUTH_TOKEN } from "../../helpers/server.js";
import { twilioSignature } from "../../helpers/webhooks.js";
import { onlyEvent, rejection, webhookRequest } from "../../helpers/parse-assertions.js";

const secrets = { twilioAuthToken: TEST_TWILIO_AUTH_TOKEN };
const now = new Date("2026-01-17T15:05:00.000Z");
/** The callback URL the Twilio adapter sets: Ackline's client message id in the (signed) query. */
const CALLBACK_URL = "https://ackline.example.test/webhooks/twilio?client_message_id=msg_abc123";

/** A status callback as documented (provider facts §2), for an RCS message. */
const readRcs = {
  MessageSid: "SM0123456789abcdef0123456789abcdef",
  SmsSid: "SM0123456789abcdef0123456789abcdef",
  AccountSid: "AC0123456789abcdef0123456789abcdef",
  From: "rcs:acme_agent",
  To: "rcs:+15558675310",
  MessageStatus: "read",
  SmsStatus: "read",
  ApiVersion: "2010-04-01",
};

function parse(params: Record<string, string>, options: { url?: string; signature?: string | null; body?: string; authToken?: string } = {}) {
  const url = options.url ?? CALLBACK_URL;
  const signature = options.signature === undefined ? twilioSignature(url, params) : options.signature;
  const headers = signature === null ? {} : { "x-twilio-signature": signature };
  const body = options.body ?? new URLSearchParams(params).toString();
  return twilio.parse(Buffer.from(body), webhookRequest(headers, url), options.authToken === undefined ? secrets : { twilioAuthToken: options.authToken }, now);
}

const single = (params: Record<string, string>, url?: string) => onlyEvent(parse(params, { url }));

describe("twilio parse() — Twilio's published signature vectors (twilio-php RequestValidatorTest, token 12345)", () => {
  // Voice parameters, not a messaging webhook: a vector that verifies gets past the signature (400), a bad one does not (401).
  const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  const voice = { CallSid: "CA1234567890ABCDE", Caller: "+14158675309", Digits: "1234", From: "+14158675309", To: "+18005551212" };
  const vector = (signature: string, options: { url?: string; body?: string } = {}) =>
    rejection(() =>
      twilio.parse(
        Buffer.from(options.body ?? new URLSearchParams(voice).toString()),
        webhookRequest({ "x-twilio-signature": signature }, options.url ?? url),
        { twilioAuthToken: "12345" },
        now,
      ),
    ).statusCode;

  it.each([
    ["the documented form vector", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", {}],
    ["signed without the port Twilio was given (:1234 removed)", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", { url: "https://mycompany.com:1234/myapp.php?foo=1&bar=2" }],
    ["signed with the default port added (https :443)", "kvajT1Ptam85bY51eRf/AJRuM3w=", {}],
    ["signed with the default port added (http :80)", "0ZXoZLH/DfblKGATFgpif+LLRf4=", { url: "http://mycompany.com/myapp.php?foo=1&bar=2" }],
    ["a repeated parameter: each distinct value once, sorted", "IK+Dwps556ElfBT0I3Rgjkr1wJU=", { body: "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234" }],
    [
      "a JSON body: the URL (with bodySHA256) is signed, the body hashed",
      "a9nBmqA0ju/hNViExpshrM61xv4=",
      { url: `${url}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620`, body: '{"property": "value", "boolean": true}' },
    ],
  ])("verifies %s", (_case, signature, options) => {
    expect(vector(signature, options)).toBe(400);
  });

  it.each([
    ["another signature", "FAIL", {}],
    ["a tampered parameter", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", { body: new URLSearchParams({ ...voice, Digits: "9999" }).toString() }],
    ["another query string", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", { url: `${url}&extra=1` }],
    [
      "a JSON body that is not the hashed one",
      "a9nBmqA0ju/hNViExpshrM61xv4=",
      { url: `${url}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620`, body: '{"property": "other", "boolean": true}' },
    ],
  ])("refuses %s (401)", (_case, signature, options) => {
    expect(vector(signature, options)).toBe(401);
  });
});

describe("twilio parse() — status callbacks", () => {
  it("normalizes a documented RCS read callback completely", () => {
    expect(single(readRcs)).toEqual({
      event: "READ",
      // Status callbacks carry no event time of their own: the receive time stands in.
      occurredAt: now,
      channel: "RCS",
      correlation: { providerMessageId: readRcs.MessageSid, messageId: "msg_abc123" },
      dedupeKey: `twilio:${readRcs.MessageSid}:read`,
      metadata: { status: "read" },
      raw: readRcs,
    });
  });

  it.each([
    ["accepted", "QUEUED"],
    ["scheduled", "QUEUED"],
    ["queued", "QUEUED"],
    ["sending", "QUEUED"],
    ["sent", "SENT"],
    ["partially_delivered", "SENT"],
    ["delivered", "DELIVERED"],
    ["read", "READ"],
    ["failed", "FAILED"],
    ["undelivered", "FAILED"],
    ["canceled", "REVOKED"],
  ])("MessageStatus %s → %s", (status, expected) => {
    const event = single({ ...readRcs, MessageStatus: status, SmsStatus: status });
    expect(event.event).toBe(expected);
    expect(event.dedupeKey).toBe(`twilio:${readRcs.MessageSid}:${status}`);
  });

  it("receiving (an inbound MMS still arriving) is acknowledged and stores nothing", () => {
    expect(parse({ ...readRcs, MessageStatus: "receiving", SmsStatus: "receiving" })).toEqual({ events: [], templateUpdates: [] });
  });

  it("reads SmsStatus when MessageStatus is absent", () => {
    const { MessageStatus: _status, ...legacy } = readRcs;
    expect(single({ ...legacy, SmsStatus: "delivered" }).event).toBe("DELIVERED");
  });

  it("failed and undelivered keep Twilio's ErrorCode", () => {
    const event = single({ ...readRcs, MessageStatus: "undelivered", ErrorCode: "30003" });
    expect(event.event).toBe("FAILED");
    expect(event.metadata).toEqual({ status: "undelivered", error_code: "30003" });
  });

  it("takes RawDlrDoneDate (YYMMDDhhmm, UTC) as the event time; an impossible one falls back to the receive time", () => {
    const sms = { ...readRcs, From: "+15005550006", To: "+15558675310", MessageStatus: "delivered" };
    expect(single({ ...sms, RawDlrDoneDate: "2601171503" }).occurredAt).toEqual(new Date("2026-01-17T15:03:00.000Z"));
    expect(single({ ...sms, RawDlrDoneDate: "2613171503" }).occurredAt).toEqual(now);
    expect(single({ ...sms, RawDlrDoneDate: "soon" }).occurredAt).toEqual(now);
  });

  it("channel: an rcs: recipient is RCS, a bare number SMS; another channel's address is not Ackline's (400)", () => {
    expect(single({ ...readRcs, To: "+15558675310" }).channel).toBe("SMS");
    const error = rejection(() => parse({ ...readRcs, To: "whatsapp:+15558675310" }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(/whatsapp/);
  });

  it("without client_message_id in the URL (a console-configured callback) correlates by MessageSid alone", () => {
    const url = "https://ackline.example.test/webhooks/twilio";
    expect(single(readRcs, url).correlation).toEqual({ providerMessageId: readRcs.MessageSid });
  });

  it("keeps parameters Twilio adds without notice in the raw payload", () => {
    const params = { ...readRcs, ChannelStatusMessage: "Delivered to handset" };
    expect(single(params).raw).toEqual(params);
  });

  it("refuses a NUL (PostgreSQL cannot store it) with 400 naming the parameter", () => {
    const refused = rejection(() => parse({ ...readRcs, ChannelStatusMessage: "bad\u0000byte" }));
    expect(refused.statusCode).toBe(400);
    expect(refused.message).toMatch(/ChannelStatusMessage.*cannot be stored/);
  });

  it("dedupe: Twilio's retry of a callback repeats the key; another status or message does not", () => {
    const first = single(readRcs).dedupeKey;
    expect(single(readRcs).dedupeKey).toBe(first);
    expect(single({ ...readRcs, MessageStatus: "delivered" }).dedupeKey).not.toBe(first);
    expect(single({ ...readRcs, MessageSid: "SMffffffffffffffffffffffffffffffff" }).dedupeKey).not.toBe(first);
  });
});

describe("twilio parse() — inbound messages", () => {
  const inbound = {
    MessageSid: "SMfedcba9876543210fedcba9876543210",
    AccountSid: "AC0123456789abcdef0123456789abcdef",
    From: "rcs:+15558675310",
    To: "rcs:acme_agent",
    Body: "Thanks, got it",
    SmsStatus: "received",
    NumMedia: "0",
    ApiVersion: "2010-04-01",
  };

  it("a text is a REPLY from the phone (its rcs: prefix removed)", () => {
    expect(single(inbound)).toEqual({
      event: "REPLY",
      occurredAt: now,
      channel: "RCS",
      correlation: { phone: "+15558675310" },
      dedupeKey: `twilio:${inbound.MessageSid}:received`,
      metadata: { kind: "text", text: "Thanks, got it" },
      raw: inbound,
    });
  });

  it("a body without any status is inbound too; an SMS reply comes from a bare number", () => {
    const { SmsStatus: _status, ...bare } = inbound;
    const event = single({ ...bare, From: "+15558675310", To: "+15005550006" });
    expect(event).toMatchObject({ event: "REPLY", channel: "SMS", correlation: { phone: "+15558675310" } });
  });

  it.each([["STOP"], ["stop"], [" Unsubscribe! "]])("the keyword %j is an OPT_OUT", (body) => {
    expect(single({ ...inbound, Body: body }).event).toBe("OPT_OUT");
  });

  it("Twilio's Advanced Opt-Out (OptOutType=STOP) is an OPT_OUT whatever the keyword", () => {
    const event = single({ ...inbound, Body: "arrête", OptOutType: "STOP" });
    expect(event.event).toBe("OPT_OUT");
    expect(event.metadata).toEqual({ kind: "text", text: "arrête", opt_out_type: "STOP" });
  });

  it("a text that merely mentions stopping is a REPLY", () => {
    expect(single({ ...inbound, Body: "please don't stop sending these" }).event).toBe("REPLY");
  });

  it("a button tap (ButtonPayload) is an ACTION on the transfer its postback names", () => {
    const event = single({ ...inbound, Body: "Download", ButtonPayload: "download:tx_AbC123", ButtonText: "Download" });
    expect(event).toMatchObject({
      event: "ACTION",
      correlation: { transferId: "tx_AbC123", phone: "+15558675310" },
      metadata: { postback: "download:tx_AbC123", text: "Download" },
    });
  });
});

describe("twilio parse() — refused", () => {
  it.each([
    ["missing", null],
    ["empty", ""],
    ["made with another auth token", twilioSignature(CALLBACK_URL, readRcs, "not-the-token")],
    ["made over the URL without its query", twilioSignature("https://ackline.example.test/webhooks/twilio", readRcs)],
    ["made over another host", twilioSignature(CALLBACK_URL.replace("ackline.example.test", "evil.example.test"), readRcs)],
    ["made over another client_message_id", twilioSignature(CALLBACK_URL.replace("msg_abc123", "msg_other"), readRcs)],
    ["made over other parameters", twilioSignature(CALLBACK_URL, { ...readRcs, MessageStatus: "delivered" })],
    ["made over fewer parameters", twilioSignature(CALLBACK_URL, { MessageSid: readRcs.MessageSid, MessageStatus: "read" })],
    ["hex instead of base64", Buffer.from(twilioSignature(CALLBACK_URL, readRcs), "base64").toString("hex")],
    ["truncated", twilioSignature(CALLBACK_URL, readRcs).slice(0, 10)],
  ])("a signature %s → 401", (_case, signature) => {
    expect(rejection(() => parse(readRcs, { signature })).statusCode).toBe(401);
  });

  it("a parameter added after signing → 401", () => {
    const body = new URLSearchParams({ ...readRcs, ErrorCode: "30003" }).toString();
    expect(rejection(() => parse(readRcs, { body })).statusCode).toBe(401);
  });

  it("refuses everything when no auth token is configured (fail closed)", () => {
    for (const authToken of ["", undefined]) {
      const body = Buffer.from(new URLSearchParams(readRcs).toString());
      const headers = { "x-twilio-signature": twilioSignature(CALLBACK_URL, readRcs, "") };
      const error = rejection(() => twilio.parse(body, webhookRequest(headers, CALLBACK_URL), { twilioAuthToken: authToken }, now));
      expect(error.statusCode).toBe(401);
    }
  });

  it("verifies before parsing: a badly signed malformed body is 401, not 400", () => {
    expect(rejection(() => parse({ MessageStatus: "read" }, { signature: "AAAA" })).statusCode).toBe(401);
  });

  it.each([
    ["no MessageSid", { MessageStatus: "read", To: "+15558675310" }, /MessageSid/],
    ["no MessageStatus and no Body", { MessageSid: "SM1", To: "+15558675310" }, /MessageStatus/],
    ["an unknown MessageStatus, named", { ...readRcs, MessageStatus: "teleported", SmsStatus: "teleported" }, /"teleported"/],
    ["a MessageStatus named like an object property", { ...readRcs, MessageStatus: "constructor" }, /"constructor"/],
    ["no To on a status callback", { MessageSid: "SM1", MessageStatus: "sent" }, /To/],
    ["no From on an inbound message", { MessageSid: "SM1", Body: "hi" }, /From/],
  ])("correctly signed, %s → 400 naming the problem", (_case, params, reason) => {
    const error = rejection(() => parse(params));
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(reason);
  });
});
