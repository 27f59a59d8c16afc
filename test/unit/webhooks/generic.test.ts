import { describe, expect, it } from "vitest";
import { generic } from "../../../src/webhooks/providers/generic.js";
import { TEST_GENERIC_SECRET } from "../../helpers/server.js";
import { genericSignature } from "../../helpers/webhooks.js";
import { onlyEvent, rejection, webhookRequest } from "../../helpers/parse-assertions.js";

const secrets = { generic: TEST_GENERIC_SECRET };
const now = new Date("2026-01-17T15:05:00Z");

/** The seed's example receipt. */
const delivered = {
  event: "message.delivered",
  timestamp: "2026-01-17T15:04:05.250Z",
  message_id: "cpaas_msg_1",
  recipient: "+14165550100",
  channel: "rcs",
  carrier: "310260",
  metadata: { delivery_code: 200 },
};

function parse(payload: unknown, options: { raw?: string; signature?: string | null; secret?: string } = {}) {
  const body = options.raw ?? JSON.stringify(payload);
  const signature = options.signature === undefined ? genericSignature(body, options.secret) : options.signature;
  const headers = signature === null ? {} : { "x-webhook-signature": signature };
  return generic.parse(Buffer.from(body), webhookRequest(headers), secrets, now);
}

function single(payload: unknown) {
  return onlyEvent(parse(payload));
}


describe("generic parse() — event mapping", () => {
  it.each([
    ["message.queued", "QUEUED"],
    ["message.sent", "SENT"],
    ["message.delivered", "DELIVERED"],
    ["message.read", "READ"],
    ["message.failed", "FAILED"],
    ["message.clicked", "ACTION"],
    ["message.replied", "REPLY"],
    ["message.optout", "OPT_OUT"],
    ["message.complained", "COMPLAINT"],
  ])("%s → %s", (name, expected) => {
    const event = single({ ...delivered, event: name });
    expect(event.event).toBe(expected);
    expect(event.correlation).toEqual({ providerMessageId: "cpaas_msg_1" });
    expect(event.dedupeKey).toContain("cpaas_msg_1");
    expect(event.dedupeKey).toContain(name);
  });

  it("normalizes the seed's receipt completely", () => {
    const event = single(delivered);
    expect(event).toEqual({
      event: "DELIVERED",
      occurredAt: new Date("2026-01-17T15:04:05.250Z"),
      channel: "RCS",
      correlation: { providerMessageId: "cpaas_msg_1" },
      dedupeKey: "generic:cpaas_msg_1:message.delivered:2026-01-17T15:04:05.250Z",
      carrier: "310260",
      region: undefined,
      metadata: { delivery_code: 200, recipient: "+14165550100" },
      raw: delivered,
    });
    // The format names no provider: the matched message's provider is used when stored.
    expect(event.provider).toBeUndefined();
  });

  it.each([
    ["sms", "SMS"],
    ["email", "EMAIL"],
    ["rcs", "RCS"],
  ])("channel %s → %s", (channel, expected) => {
    expect(single({ ...delivered, channel }).channel).toBe(expected);
  });

  it("the channel is optional (the message's own channel is used when stored)", () => {
    const { channel: _channel, ...withoutChannel } = delivered;
    expect(single(withoutChannel).channel).toBeUndefined();
  });

  it("takes the region from the field or from metadata.region", () => {
    expect(single({ ...delivered, region: "CA-ON" }).region).toBe("CA-ON");
    expect(single({ ...delivered, metadata: { region: "US-NY" } }).region).toBe("US-NY");
  });

  it("takes Unix seconds and milliseconds as the same instant, to the millisecond", () => {
    const seconds = single({ ...delivered, timestamp: 1768662245 }).occurredAt;
    const millis = single({ ...delivered, timestamp: 1768662245000 }).occurredAt;
    expect(seconds.toISOString()).toBe("2026-01-17T15:04:05.000Z");
    expect(millis.getTime()).toBe(seconds.getTime());
    expect(single({ ...delivered, timestamp: 1768662245123 }).occurredAt.toISOString()).toBe("2026-01-17T15:04:05.123Z");
  });

  it("dedupe: a retried delivery repeats the key; a second click (another time) does not", () => {
    const click = { ...delivered, event: "message.clicked" };
    const first = single(click).dedupeKey;
    expect(single(click).dedupeKey).toBe(first);
    // The same instant written another way is the same event.
    expect(single({ ...click, timestamp: "2026-01-17T15:04:05.250+00:00" }).dedupeKey).toBe(first);
    expect(single({ ...click, timestamp: "2026-01-17T15:04:09.000Z" }).dedupeKey).not.toBe(first);
    expect(single({ ...click, event: "message.read" }).dedupeKey).not.toBe(first);
    expect(single({ ...click, message_id: "cpaas_msg_2" }).dedupeKey).not.toBe(first);
  });

  it.each([
    ["template.approved", "APPROVED"],
    ["template.rejected", "REJECTED"],
  ] as const)("%s → a template update (%s), no receipt event", (name, status) => {
    const payload = { event: name, timestamp: "2026-01-17T15:04:05Z", template_id: "transfer_notification_v2", metadata: { comment: "looks fine" } };
    const delivery = parse(payload);
    expect(delivery.events).toEqual([]);
    expect(delivery.templateUpdates).toEqual([
      { provider: "generic", name: "transfer_notification_v2", status, comment: "looks fine", occurredAt: new Date("2026-01-17T15:04:05Z"), raw: payload },
    ]);
  });

  it("a template event may name its template in metadata.template_id", () => {
    const delivery = parse({ event: "template.approved", timestamp: "2026-01-17T15:04:05Z", metadata: { template_id: "tpl_7" } });
    expect(delivery.templateUpdates[0]).toMatchObject({ name: "tpl_7", status: "APPROVED" });
  });
});

describe("generic parse() — signature", () => {
  it("accepts the hex HMAC-SHA256 of the raw body, in either case", () => {
    const body = JSON.stringify(delivered);
    expect(parse(undefined, { raw: body }).events).toHaveLength(1);
    expect(parse(undefined, { raw: body, signature: genericSignature(body).toUpperCase() }).events).toHaveLength(1);
  });

  it.each([
    ["missing", null],
    ["empty", ""],
    ["made with another secret", genericSignature(JSON.stringify(delivered), "not-the-secret")],
    ["one hex digit short (63)", genericSignature(JSON.stringify(delivered)).slice(0, 63)],
    ["one hex digit long (65)", `${genericSignature(JSON.stringify(delivered))}0`],
    ["a byte long (66)", `${genericSignature(JSON.stringify(delivered))}00`],
    ["half length (32)", genericSignature(JSON.stringify(delivered)).slice(0, 32)],
    ["not hex", "z".repeat(64)],
    ["base64 of the right MAC", Buffer.from(genericSignature(JSON.stringify(delivered)), "hex").toString("base64")],
    ["prefixed sha256=", `sha256=${genericSignature(JSON.stringify(delivered))}`],
  ])("a signature %s → 401", (_case, signature) => {
    const error = rejection(() => parse(delivered, { signature }));
    expect(error.statusCode).toBe(401);
  });

  it("a flipped last digit → 401", () => {
    const body = JSON.stringify(delivered);
    const good = genericSignature(body);
    const bad = good.slice(0, -1) + (good.endsWith("0") ? "1" : "0");
    expect(rejection(() => parse(undefined, { raw: body, signature: bad })).statusCode).toBe(401);
  });

  it("signs the exact bytes: the same JSON re-serialized does not verify", () => {
    const sent = JSON.stringify(delivered, null, 2);
    const error = rejection(() => parse(undefined, { raw: sent, signature: genericSignature(JSON.stringify(delivered)) }));
    expect(error.statusCode).toBe(401);
  });

  it("refuses everything when its secret is not configured (fail closed)", () => {
    const body = JSON.stringify(delivered);
    for (const configured of [{}, { generic: "" }]) {
      const error = rejection(() => generic.parse(Buffer.from(body), webhookRequest({ "x-webhook-signature": genericSignature(body) }), configured, now));
      expect(error.statusCode).toBe(401);
    }
    // Not even a signature made with the empty key gets in.
    const emptyKeySig = genericSignature(body, "");
    expect(rejection(() => generic.parse(Buffer.from(body), webhookRequest({ "x-webhook-signature": emptyKeySig }), { generic: "" }, now)).statusCode).toBe(401);
  });

  it("verifies before parsing: a badly signed malformed body is 401, not 400", () => {
    expect(rejection(() => parse(undefined, { raw: "{not json", signature: "0".repeat(64) })).statusCode).toBe(401);
  });
});

describe("generic parse() — malformed bodies", () => {
  it.each([
    ["not JSON", undefined, "{not json", /JSON/],
    ["an empty body", undefined, "", /JSON/],
    ["an unknown event", { ...delivered, event: "message.bounced" }, undefined, /unknown event "message\.bounced"/],
    ["no event", { ...delivered, event: undefined }, undefined, /event/],
    ["no timestamp", { ...delivered, timestamp: undefined }, undefined, /timestamp/],
    ["a timestamp that is not a date", { ...delivered, timestamp: "soon" }, undefined, /timestamp/],
    ["a message event without message_id", { ...delivered, message_id: undefined }, undefined, /message_id/],
    ["an empty message_id", { ...delivered, message_id: "" }, undefined, /message_id/],
    ["an unknown channel", { ...delivered, channel: "fax" }, undefined, /channel/],
    ["a template event without template_id", { event: "template.approved", timestamp: "2026-01-17T15:04:05Z" }, undefined, /template_id/],
    ["metadata that is not an object", { ...delivered, metadata: "x" }, undefined, /metadata/],
  ])("%s → 400 naming the problem", (_case, payload, raw, reason) => {
    const error = rejection(() => parse(payload, { raw }));
    expect(error.statusCode).toBe(400);
    expect(error.message).toMatch(reason);
  });
});
