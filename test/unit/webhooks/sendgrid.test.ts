import { generateKeyPairSync } from "node:crypto";
import { EventWebhook } from "@sendgrid/eventwebhook";
import { describe, expect, it } from "vitest";
import { sendgrid } from "../../../src/webhooks/providers/sendgrid.js";
import { sendgridHeaders } from "../../helpers/email-webhooks.js";
import { onlyEvent, rejection, webhookRequest } from "../../helpers/parse-assertions.js";
import { TEST_SENDGRID_PUBLIC_KEY } from "../../helpers/server.js";

const secrets = { sendgridPublicKey: TEST_SENDGRID_PUBLIC_KEY };
const now = new Date("2017-12-15T01:00:00.000Z");
const nowSeconds = Math.floor(now.getTime() / 1000);

/** The Event Webhook reference's example event (delivered), fields common to every event. */
const delivered = {
  email: "example@test.com",
  timestamp: 1513299569,
  "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
  event: "delivered",
  category: "cat facts",
  sg_event_id: "rWVYmVk90MjZJ9iohOBa3w==",
  sg_message_id: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
  response: "250 OK",
};

function parse(events: unknown, options: { body?: string; timestamp?: number; headers?: Record<string, string>; publicKey?: string | null } = {}) {
  const body = options.body ?? JSON.stringify(events);
  const headers = options.headers ?? sendgridHeaders(body, { timestamp: options.timestamp ?? nowSeconds - 30 });
  const keys = options.publicKey === null ? {} : { sendgridPublicKey: options.publicKey ?? secrets.sendgridPublicKey };
  return sendgrid.parse(Buffer.from(body), webhookRequest(headers), keys, now);
}

const single = (event: Record<string, unknown>) => onlyEvent(parse([event]));
const refusal = (events: unknown, options: Parameters<typeof parse>[1] = {}) => rejection(() => parse(events, options));

describe("sendgrid signature", () => {
  it("accepts SendGrid's own test vectors (from @sendgrid/eventwebhook), one event and several", () => {
    // eventwebhook.spec.js: a dropped event, the body ending in CRLF as SendGrid posts it.
    const single = `${JSON.stringify([
      {
        email: "hello@world.com",
        event: "dropped",
        reason: "Bounced Address",
        sg_event_id: "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA",
        sg_message_id: "LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0",
        "smtp-id": "<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>",
        timestamp: 1600112492,
      },
    ])}\r\n`;
    const delivery = sendgrid.parse(
      Buffer.from(single),
      webhookRequest({
        "x-twilio-email-event-webhook-signature": "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=",
        "x-twilio-email-event-webhook-timestamp": "1600112502",
      }),
      { sendgridPublicKey: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==" },
      new Date(1600112502 * 1000),
    );
    expect(onlyEvent(delivery)).toMatchObject({
      event: "FAILED",
      correlation: { providerMessageId: "LRzXl_NHStOGhQ4kofSm_A" },
      metadata: { event: "dropped", reason: "Bounced Address", bounce_type: "hard" },
    });

    const several = `${JSON.stringify([
      {
        email: "invalid@gmail.com",
        event: "processed",
        send_at: 0,
        sg_event_id: "cHJvY2Vzc2VkLTE5OTQyMTEyLXFOd0JMZ1BRUWpXNkRKdktRd1NBYnctMA",
        sg_message_id: "qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0",
        "smtp-id": "<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>",
        timestamp: 1619651146,
      },
      {
        email: "invalid@gmail.com",
        event: "bounce",
        ip: "167.89.101.76",
        reason:
          "552 5.2.2 The email account that you tried to reach is over quota and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm c17si1130468pgv.34 - gsmtp",
        sg_event_id: "Ym91bmNlLTAtMTk5NDIxMTItcU53QkxnUFFRalc2REp2S1F3U0Fidy0w",
        sg_message_id: "qNwBLgPQQjW6DJvKQwSAbw.filterdrecv-canary-547b64655b-cw6zx-1-6089EA4A-56.0",
        "smtp-id": "<qNwBLgPQQjW6DJvKQwSAbw@ismtpd0178p1mdw1.sendgrid.net>",
        status: "5.2.2",
        timestamp: 1619651147,
        tls: 1,
        type: "blocked",
      },
    ])
      .split("},{")
      .join("},\r\n{")}\r\n`;
    const batch = sendgrid.parse(
      Buffer.from(several),
      webhookRequest({
        "x-twilio-email-event-webhook-signature": "MEYCIQC/I4o6vCgqRYrTljjoVWB/GRWNtxeePlLMHr3x9ETeRQIhAIpV+03nREPTTHWSW0wIOA0EoMPdcNgXa70yCaqDJlu5",
        "x-twilio-email-event-webhook-timestamp": "1619651159",
      }),
      { sendgridPublicKey: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQ4LIFtWztlsF7skFqOncjD1lun4H5w8XOhyOArHW9RcIx/FfEzx6cikC/yPfUvwaX/JScE7Fc9CJD2afQ9Ok3Q==" },
      new Date(1619651159 * 1000),
    );
    expect(batch.events.map((event) => [event.event, event.metadata.bounce_type])).toEqual([
      ["SENT", undefined],
      ["FAILED", "soft"],
    ]);
  });

  it("the signing these tests do verifies with SendGrid's own library", () => {
    const body = JSON.stringify([delivered]);
    const headers = sendgridHeaders(body, { timestamp: nowSeconds });
    const library = new EventWebhook();
    const key = library.convertPublicKeyToECDSA(TEST_SENDGRID_PUBLIC_KEY);
    expect(library.verifySignature(key, body, headers["x-twilio-email-event-webhook-signature"]!, String(nowSeconds))).toBe(true);
    expect(library.verifySignature(key, `${body} `, headers["x-twilio-email-event-webhook-signature"]!, String(nowSeconds))).toBe(false);
  });

  it("refuses (401) without a configured key, without headers, and with a signature that does not match", () => {
    expect(refusal([delivered], { publicKey: null })).toMatchObject({ statusCode: 401, message: expect.stringContaining("not configured") as string });
    expect(refusal([delivered], { headers: {} }).statusCode).toBe(401);

    const body = JSON.stringify([delivered]);
    const headers = sendgridHeaders(body, { timestamp: nowSeconds });
    // The body changed after signing; the timestamp changed after signing; another key signed it.
    expect(refusal([delivered], { body: body.replace("delivered", "bounce"), headers }).statusCode).toBe(401);
    expect(refusal([delivered], { body, headers: { ...headers, "x-twilio-email-event-webhook-timestamp": String(nowSeconds - 1) } }).statusCode).toBe(401);
    const stranger = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    expect(refusal([delivered], { body, headers: sendgridHeaders(body, { timestamp: nowSeconds, privateKey: stranger }) }).statusCode).toBe(401);
    // Garbage where a DER signature belongs is a refusal, not a crash.
    expect(refusal([delivered], { body, headers: { ...headers, "x-twilio-email-event-webhook-signature": "bm90IGEgc2lnbmF0dXJl" } }).statusCode).toBe(401);
    expect(refusal([delivered], { body, headers: { ...headers, "x-twilio-email-event-webhook-timestamp": "yesterday" } }).statusCode).toBe(401);
  });

  it("a key that is not P-256 (an RSA key pasted by mistake) verifies nothing", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "der" }).toString("base64");
    expect(refusal([delivered], { publicKey: rsa })).toMatchObject({ statusCode: 401, message: expect.stringContaining("P-256") as string });
  });

  it("the timestamp may be up to 24 hours old (SendGrid's retry span) and 5 minutes ahead, no more", () => {
    expect(onlyEvent(parse([delivered], { timestamp: nowSeconds - 24 * 60 * 60 + 5 })).event).toBe("DELIVERED");
    expect(onlyEvent(parse([delivered], { timestamp: nowSeconds + 4 * 60 })).event).toBe("DELIVERED");
    expect(refusal([delivered], { timestamp: nowSeconds - 24 * 60 * 60 - 5 }).statusCode).toBe(401);
    expect(refusal([delivered], { timestamp: nowSeconds + 6 * 60 }).statusCode).toBe(401);
  });

  it("checks the signature before the body: an unsigned malformed body is 401, a signed one 400", () => {
    expect(refusal(undefined, { body: "not json", headers: {} }).statusCode).toBe(401);
    expect(refusal(undefined, { body: "not json" })).toMatchObject({ statusCode: 400, message: "body is not valid JSON" });
    expect(refusal({ event: "delivered" }).statusCode).toBe(400);
  });
});

describe("sendgrid normalization", () => {
  it("normalizes the documented delivered event completely", () => {
    expect(single(delivered)).toEqual({
      event: "DELIVERED",
      occurredAt: new Date(1513299569 * 1000),
      channel: "EMAIL",
      correlation: { providerMessageId: "14c5d75ce93" },
      dedupeKey: "sendgrid:rWVYmVk90MjZJ9iohOBa3w==",
      metadata: { event: "delivered", recipient: "example@test.com", response: "250 OK" },
      raw: delivered,
    });
  });

  it.each([
    ["processed", "SENT"],
    ["deferred", "QUEUED"],
    ["delivered", "DELIVERED"],
    ["open", "READ"],
    ["click", "ACTION"],
    ["bounce", "FAILED"],
    ["dropped", "FAILED"],
    ["spamreport", "COMPLAINT"],
    ["unsubscribe", "OPT_OUT"],
    ["group_unsubscribe", "OPT_OUT"],
  ])("%s → %s", (event, expected) => {
    expect(single({ ...delivered, event }).event).toBe(expected);
  });

  it("group_resubscribe is acknowledged and stores nothing: lifting a suppression takes recorded consent", () => {
    expect(parse([{ ...delivered, event: "group_resubscribe", asm_group_id: 10 }]).events).toEqual([]);
  });

  it("a bounce is hard (suppresses the address) unless SendGrid calls it blocked; a drop is hard for a bad address only", () => {
    const bounce = { ...delivered, event: "bounce", reason: "500 unknown recipient", status: "5.0.0" };
    expect(single({ ...bounce, type: "bounce" }).metadata).toEqual({
      event: "bounce",
      recipient: "example@test.com",
      response: "250 OK",
      reason: "500 unknown recipient",
      status: "5.0.0",
      type: "bounce",
      bounce_type: "hard",
    });
    expect(single({ ...bounce, type: "blocked" }).metadata.bounce_type).toBe("soft");
    expect(single(bounce).metadata.bounce_type).toBe("hard");
    expect(single({ ...delivered, event: "dropped", reason: "Invalid" }).metadata.bounce_type).toBe("hard");
    expect(single({ ...delivered, event: "dropped", reason: "Unsubscribed Address" }).metadata).not.toHaveProperty("bounce_type");
  });

  it("a click keeps its URL; a deferral its attempt", () => {
    expect(single({ ...delivered, event: "click", url: "https://ackline.example.test/t/tx_1" }).metadata.url).toBe("https://ackline.example.test/t/tx_1");
    expect(single({ ...delivered, event: "deferred", attempt: "3", response: "400 try again later" }).metadata).toMatchObject({ attempt: "3", response: "400 try again later" });
  });

  it("correlates by sg_message_id up to its first dot, and by Ackline's own Message-ID when smtp-id echoes it", () => {
    const own = single({ ...delivered, "smtp-id": "<msg_AbCdEf0123456789@ackline>", sg_message_id: "nhIMmON9SFOPcT0ii4nt2A.filterdrecv-1.0" });
    expect(own.correlation).toEqual({ providerMessageId: "nhIMmON9SFOPcT0ii4nt2A", messageId: "msg_AbCdEf0123456789" });
    const { sg_message_id: _id, "smtp-id": _smtp, ...anonymous } = delivered;
    expect(single(anonymous).correlation).toEqual({});
  });

  it("a batch becomes one event per element, each with its own raw payload and key", () => {
    const events = [delivered, { ...delivered, event: "open", sg_event_id: "open-1", useragent: "Mozilla/5.0" }, { ...delivered, event: "click", sg_event_id: "click-1" }];
    const delivery = parse(events);
    expect(delivery.events.map((event) => [event.event, event.dedupeKey, event.raw])).toEqual([
      ["DELIVERED", "sendgrid:rWVYmVk90MjZJ9iohOBa3w==", events[0]],
      ["READ", "sendgrid:open-1", events[1]],
      ["ACTION", "sendgrid:click-1", events[2]],
    ]);
  });

  it("refuses (400) an unknown event, or one without sg_event_id, naming the element", () => {
    expect(refusal([delivered, { ...delivered, event: "machine_open" }])).toMatchObject({ statusCode: 400, message: expect.stringContaining("1.event") as string });
    const { sg_event_id: _id, ...unidentified } = delivered;
    expect(refusal([unidentified])).toMatchObject({ statusCode: 400, message: expect.stringContaining("sg_event_id") as string });
  });
});
