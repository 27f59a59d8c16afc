import { describe, expect, it } from "vitest";
import type { WebhookSecrets } from "../../../src/webhooks/provider.js";
import { infobip } from "../../../src/webhooks/providers/infobip.js";
import { rejection, webhookRequest } from "../../helpers/parse-assertions.js";
import { TEST_INFOBIP_BASIC } from "../../helpers/server.js";
import { basicAuthorization } from "../../helpers/webhooks.js";

/*
 * Infobip's documented webhook payloads: the RCS delivery, seen, typing and inbound reports of its
 * API specification (as exercised by Infobip's own Go client tests), and the inbound SMS sample
 * (MO_JSON_2) of its SMS documentation.
 */
const noError = { groupId: 0, groupName: "OK", id: 0, name: "NO_ERROR", description: "No error", permanent: false };
const delivered = { groupId: 3, groupName: "DELIVERED", id: 5, name: "DELIVERED_TO_HANDSET", description: "Message delivered to handset" };
const rcsReport = {
  bulkId: "bulk-123-rcs",
  messageId: "msg-456-rcs",
  to: "441134960001",
  sender: "DemoSender",
  sentAt: "2025-02-06T15:35:12.000+0000",
  doneAt: "2025-02-06T15:35:14.000+0000",
  messageCount: 1,
  mccMnc: "21901",
  callbackData: "callbackData",
  price: { pricePerMessage: 0.01, currency: "EUR" },
  status: delivered,
  error: noError,
  platform: { entityId: "my-entity-id", applicationId: "my-application-id" },
  campaignReferenceId: "campaignRef",
};
/** RCS, then Infobip's SMS failover: one report each, batched. */
const failoverReports = {
  results: [
    { bulkId: "bulk-123", channel: "RCS", messageId: "msg-456", to: "441134960001", sender: "DemoSender", sentAt: "2025-02-06T15:35:12.000+0000", doneAt: "2025-02-06T15:35:14.000+0000", messageCount: 1, status: delivered, error: noError },
    { bulkId: "bulk-123", channel: "SMS", messageId: "msg-789", to: "441134960001", sender: "DemoSender", sentAt: "2025-02-06T15:36:12.000+0000", doneAt: "2025-02-06T15:36:14.000+0000", messageCount: 1, status: delivered, error: noError },
  ],
};
const seenReport = {
  messageId: "msg-456-rcs",
  from: "441134960001",
  to: "DemoSender",
  sentAt: "2025-02-06T15:35:12.000+0000",
  seenAt: "2025-02-06T15:36:00.000+0000",
  entityId: "my-entity-id",
  applicationId: "my-application-id",
  campaignReferenceId: "campaignRef",
};
const typing = { sender: "441134960001", to: "DemoSender", receivedAt: "2025-02-06T15:35:12.123+0000", event: { type: "TYPING_INDICATOR" }, entityId: "my-entity-id", applicationId: "my-application-id" };
const rcsInbound = (message: Record<string, unknown>, messageId = "msg-inbound-123") => ({
  sender: "441134960001",
  to: "DemoSender",
  integrationType: "RCS",
  receivedAt: "2025-02-06T15:35:12.000+0000",
  messageId,
  message,
  price: { pricePerMessage: 0.0, currency: "EUR" },
});
const smsInbound = {
  messageId: "817790313235066447",
  from: "385916242493",
  to: "385921004026",
  text: "QUIZ Correct answer is Paris",
  cleanText: "Correct answer is Paris",
  keyword: "QUIZ",
  receivedAt: "2016-10-06T09:28:39.220+0000",
  smsCount: 1,
  price: { pricePerMessage: 0, currency: "EUR" },
  callbackData: "callbackData",
};

const secrets: WebhookSecrets = { infobipBasic: TEST_INFOBIP_BASIC };
const now = new Date("2025-02-06T16:00:00.000Z");

function parse(payload: unknown, options: { authorization?: string | null; raw?: string; secrets?: WebhookSecrets } = {}) {
  const authorization = options.authorization === undefined ? basicAuthorization(TEST_INFOBIP_BASIC) : options.authorization;
  const headers = authorization === null ? {} : { authorization };
  return infobip.parse(Buffer.from(options.raw ?? JSON.stringify(payload)), webhookRequest(headers), options.secrets ?? secrets, now);
}
const events = (...results: unknown[]) => parse({ results }).events;
const single = (result: unknown) => {
  const [event, ...rest] = events(result);
  expect(rest).toEqual([]);
  return event!;
};
const report = (status: Record<string, unknown>, error: Record<string, unknown> = noError) => ({ ...rcsReport, status, error });

describe("infobip parse() — delivery reports", () => {
  it("normalizes the documented RCS delivery report completely; callbackData names Ackline's message", () => {
    expect(parse({ results: [rcsReport] })).toEqual({
      events: [
        {
          event: "DELIVERED",
          occurredAt: new Date("2025-02-06T15:35:14.000Z"),
          channel: undefined,
          correlation: { providerMessageId: "msg-456-rcs", messageId: "callbackData" },
          dedupeKey: "infobip:msg-456-rcs:DELIVERED_TO_HANDSET",
          carrier: "21901",
          metadata: { status: "DELIVERED_TO_HANDSET", status_group: "DELIVERED" },
          raw: rcsReport,
        },
      ],
      templateUpdates: [],
    });
  });

  it("a batch becomes one event per result, each keeping its own part of the body", () => {
    const [rcs, sms] = parse(failoverReports).events;
    expect([rcs!.channel, rcs!.correlation, rcs!.raw]).toEqual(["RCS", { providerMessageId: "msg-456" }, failoverReports.results[0]]);
    expect([sms!.channel, sms!.correlation, sms!.raw]).toEqual(["SMS", { providerMessageId: "msg-789" }, failoverReports.results[1]]);
    expect(sms!.occurredAt).toEqual(new Date("2025-02-06T15:36:14.000Z"));
  });

  it.each([
    [{ groupId: 1, groupName: "PENDING", id: 7, name: "PENDING_ENROUTE", description: "Message sent to next instance" }, "SENT"],
    [{ groupId: 2, groupName: "UNDELIVERABLE", id: 9, name: "UNDELIVERABLE_NOT_DELIVERED", description: "Message sent not delivered" }, "FAILED"],
    [delivered, "DELIVERED"],
    [{ groupId: 4, groupName: "EXPIRED", id: 15, name: "EXPIRED_EXPIRED", description: "Message expired" }, "FAILED"],
    [{ groupId: 5, groupName: "REJECTED", id: 6, name: "REJECTED_NETWORK", description: "Network is forbidden" }, "FAILED"],
  ])("status group %o → %s", (status, expected) => {
    const event = single(report(status));
    expect(event.event).toBe(expected);
    expect(event.metadata).toEqual({ status: status.name, status_group: status.groupName });
    expect(event.dedupeKey).toBe(`infobip:msg-456-rcs:${status.name}`);
  });

  it("a failure keeps Infobip's error (group, name, permanence); NO_ERROR is left out", () => {
    const error = { groupId: 1, groupName: "HANDSET_ERRORS", id: 27, name: "EC_ABSENT_SUBSCRIBER", description: "Absent Subscriber", permanent: false };
    const event = single(report({ groupId: 2, groupName: "UNDELIVERABLE", id: 9, name: "UNDELIVERABLE_NOT_DELIVERED" }, error));
    expect(event.metadata).toEqual({ status: "UNDELIVERABLE_NOT_DELIVERED", status_group: "UNDELIVERABLE", error });
    expect(single(rcsReport).metadata).not.toHaveProperty("error");
  });

  it("dedupe: a retried report repeats the key; another status of the same message does not", () => {
    const key = single(rcsReport).dedupeKey;
    expect(single(rcsReport).dedupeKey).toBe(key);
    expect(single(report({ groupId: 1, groupName: "PENDING", id: 7, name: "PENDING_ENROUTE" })).dedupeKey).not.toBe(key);
  });

  it("without doneAt the time Ackline received the report is the event time", () => {
    const { doneAt: _doneAt, ...undated } = rcsReport;
    expect(single(undated).occurredAt).toEqual(now);
  });
});

describe("infobip parse() — seen reports and typing", () => {
  it("a seen report → READ on that message", () => {
    expect(single(seenReport)).toEqual({
      event: "READ",
      occurredAt: new Date("2025-02-06T15:36:00.000Z"),
      channel: "RCS",
      correlation: { providerMessageId: "msg-456-rcs" },
      dedupeKey: "infobip:msg-456-rcs:seen",
      metadata: {},
      raw: seenReport,
    });
  });

  it("a typing indicator → TYPING from that phone (written with its +)", () => {
    const event = single(typing);
    expect(event).toMatchObject({ event: "TYPING", channel: "RCS", correlation: { phone: "+441134960001" }, occurredAt: new Date("2025-02-06T15:35:12.123Z") });
    expect(single({ ...typing, receivedAt: "2025-02-06T15:35:20.000+0000" }).dedupeKey).not.toBe(event.dedupeKey);
  });
});

describe("infobip parse() — inbound messages", () => {
  it("RCS text → REPLY from that phone, deduplicated by Infobip's message id", () => {
    const result = rcsInbound({ type: "TEXT", text: "Hello from user" });
    expect(single(result)).toEqual({
      event: "REPLY",
      occurredAt: new Date("2025-02-06T15:35:12.000Z"),
      channel: "RCS",
      correlation: { phone: "+441134960001" },
      dedupeKey: "infobip:inbound:msg-inbound-123",
      metadata: { kind: "text", text: "Hello from user" },
      raw: result,
    });
  });

  it("RCS STOP → OPT_OUT", () => {
    expect(single(rcsInbound({ type: "TEXT", text: "STOP" })).event).toBe("OPT_OUT");
  });

  it("the documented batch of a file and a suggestion → REPLY and ACTION; Ackline's postback names the transfer", () => {
    const file = rcsInbound({ type: "FILE", url: "https://www.example.com/voice-note.amr", name: "voice-note.amr", contentType: "audio/AMR", size: 2048 }, "msg-file-123");
    const suggestion = rcsInbound({ type: "SUGGESTION", text: "Yes", postbackData: "CONFIRM_YES" }, "msg-suggestion-456");
    const [reply, action] = events(file, suggestion);
    expect(reply).toMatchObject({ event: "REPLY", metadata: { kind: "file", url: "https://www.example.com/voice-note.amr", name: "voice-note.amr" }, raw: file });
    expect(action).toMatchObject({ event: "ACTION", correlation: { transferId: undefined, phone: "+441134960001" }, metadata: { postback: "CONFIRM_YES", text: "Yes" } });
    const ours = single(rcsInbound({ type: "SUGGESTION", text: "Download", postbackData: "download:tx_Ab-9_zQ" }));
    expect(ours.correlation).toEqual({ transferId: "tx_Ab-9_zQ", phone: "+441134960001" });
  });

  it("inbound SMS (MO_JSON_2) → REPLY on SMS; a STOP → OPT_OUT", () => {
    expect(single(smsInbound)).toEqual({
      event: "REPLY",
      occurredAt: new Date("2016-10-06T09:28:39.220Z"),
      channel: "SMS",
      correlation: { phone: "+385916242493" },
      dedupeKey: "infobip:inbound:817790313235066447",
      metadata: { kind: "text", text: "QUIZ Correct answer is Paris" },
      raw: smsInbound,
    });
    expect(single({ ...smsInbound, text: "Stop" }).event).toBe("OPT_OUT");
  });

  it("an empty batch is acknowledged with nothing stored", () => {
    expect(parse({ results: [], messageCount: 0, pendingMessageCount: 0 })).toEqual({ events: [], templateUpdates: [] });
  });
});

describe("infobip parse() — HTTP Basic", () => {
  it.each([
    ["no Authorization header", null],
    ["a Bearer token", "Bearer abc.def.ghi"],
    ["the wrong password", basicAuthorization("infobip:wrong")],
    ["EnableX's credentials", basicAuthorization("enablex:s3cret-pass")],
    ["credentials with a trailing character", basicAuthorization(`${TEST_INFOBIP_BASIC}x`)],
  ])("%s → 401", (_case, authorization) => {
    expect(rejection(() => parse(failoverReports, { authorization })).statusCode).toBe(401);
  });

  it("no credentials configured refuses everything (fail closed)", () => {
    expect(rejection(() => parse(failoverReports, { secrets: {} })).statusCode).toBe(401);
    expect(rejection(() => parse(failoverReports, { secrets: { enablexBasic: TEST_INFOBIP_BASIC } })).statusCode).toBe(401);
  });

  it("checks credentials before the body: bad credentials with a malformed body are 401", () => {
    expect(rejection(() => parse(undefined, { raw: "{not json", authorization: basicAuthorization("infobip:wrong") })).statusCode).toBe(401);
  });
});

describe("infobip parse() — malformed bodies → 400 naming the result", () => {
  it.each<[string, { payload?: unknown; raw?: string }, RegExp]>([
    ["not JSON", { raw: "{not json" }, /JSON/],
    ["no results", { payload: { messageCount: 1 } }, /results/],
    ["results that is not an array", { payload: { results: rcsReport } }, /results/],
    ["a result of no known kind", { payload: { results: [rcsReport, { messageId: "x" }] } }, /results\.1/],
    ["an unknown status group", { payload: { results: [report({ ...delivered, groupId: 9 })] } }, /results\.0\.status\.groupId.*9/],
    ["a report without messageId", { payload: { results: [{ ...rcsReport, messageId: undefined }] } }, /results\.0\.messageId/],
    ["a channel Ackline does not send on", { payload: { results: [{ ...failoverReports.results[0], channel: "WHATSAPP" }] } }, /WHATSAPP/],
    ["an inbound SMS without from", { payload: { results: [{ ...smsInbound, from: undefined }] } }, /results\.0\.from/],
    ["an inbound RCS message without its type", { payload: { results: [rcsInbound({ text: "hi" })] } }, /results\.0\.message\.type/],
    ["a doneAt that is not a date", { payload: { results: [{ ...rcsReport, doneAt: "yesterday" }] } }, /timestamp/],
  ])("%s", (_case, { payload, raw }, reason) => {
    const error = rejection(() => parse(payload, { raw }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(reason);
  });
});
