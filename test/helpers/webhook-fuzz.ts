import { createHash, createHmac, randomUUID, sign } from "node:crypto";
import { hostileText, hostileValue, nested, type Prng, toJson } from "./graphql-fuzz.js";
import { TEST_MAILGUN_SIGNING_KEY, TEST_SENDGRID_KEYS, TEST_STANDARD_SECRET } from "./server.js";
import { snsNotification, type SnsSigner } from "./sns.js";
import { basicAuthorization, genericSignature, rbmSignature, twilioSignature, vonageAuthorization } from "./webhooks.js";
import { TEST_ENABLEX_BASIC, TEST_INFOBIP_BASIC, TEST_SINCH_SECRET } from "./server.js";

/**
 * Hostile deliveries for every webhook door, generated from a seed so that a failure reproduces.
 * Many carry a VALID signature over a malformed body: they get past verification, so parsing,
 * validation and storage are what answer them.
 */
export interface WebhookCase {
  name: string;
  door: string;
  body: Buffer;
  headers: Record<string, string>;
  /** A 2xx would be wrong (unsigned, stale, unstorable, not the door's format); otherwise a stored odd-but-valid delivery may be 200. */
  mustRefuse: boolean;
}

/** What a door needs to sign: the server's own URL (Twilio signs it) and the SNS test signer. */
export interface FuzzContext {
  serverUrl: string;
  sns: SnsSigner;
}

const WEBHOOK_BODY_LIMIT = 256 * 1024;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const iso = (offsetSeconds = 0) => new Date(Date.now() + offsetSeconds * 1000).toISOString();

/** A signed timestamp outside every door's window: stale (up to years) or ahead (beyond the skew). */
const outsideWindow = (random: Prng) => (random.int(2) === 0 ? -1 : 1) * (10 * 60 + random.int(10 * 365 * 86_400));

interface Door {
  name: string;
  /** A valid payload of the door's format (fresh ids each time). */
  sample(random: Prng): unknown;
  /**
   * The request for `body` as the door's sender would sign it (`offsetSeconds` moves the signed
   * time); for doors that sign inside the body, `body` is what goes inside.
   */
  signed(body: Buffer, context: FuzzContext, offsetSeconds: number): { body: Buffer; headers: Record<string, string> };
  /** Whether the door signs a time (so a stale or future one is refused). */
  timed: boolean;
}

const id = (random: Prng, prefix: string) => `${prefix}${random.bytes(8).toString("hex")}`;
const phone = (random: Prng) => `+1416555${String(1000 + random.int(9000))}`;

const hmacOver = (algorithm: string, key: string | Buffer, ...parts: Array<string | Buffer>) =>
  createHmac(algorithm, key).update(Buffer.concat(parts.map((part) => (Buffer.isBuffer(part) ? part : Buffer.from(part))))).digest();

const DOORS: readonly Door[] = [
  {
    name: "generic",
    timed: false,
    sample: (random) => ({ event: "message.delivered", timestamp: iso(), message_id: id(random, "sim_"), channel: "rcs", carrier: "310260", metadata: { note: "n" } }),
    signed: (body) => ({ body, headers: { "x-webhook-signature": genericSignature(body) } }),
  },
  {
    name: "enablex",
    timed: false,
    sample: (random) => ({ phone: phone(random), request_id: id(random, "req_"), type: "text", text: "hello", timestamp: iso() }),
    signed: (body) => ({ body, headers: { authorization: basicAuthorization(TEST_ENABLEX_BASIC) } }),
  },
  {
    name: "standard",
    timed: true,
    sample: (random) => ({ transfer_id: id(random, "tx_"), message_id: id(random, "msg_"), channel: "rcs", event: "delivered", timestamp: iso(), provider: "cpaas@example" }),
    signed: (body, _context, offset) => {
      const webhookId = randomUUID();
      const timestamp = String(nowSeconds() + offset);
      const key = Buffer.from(TEST_STANDARD_SECRET.replace(/^whsec_/, ""), "base64");
      return { body, headers: { "webhook-id": webhookId, "webhook-timestamp": timestamp, "webhook-signature": `v1,${hmacOver("sha256", key, `${webhookId}.${timestamp}.`, body).toString("base64")}` } };
    },
  },
  {
    name: "twilio",
    timed: false,
    sample: (random) => ({ MessageSid: id(random, "SM"), MessageStatus: "delivered", To: `rcs:${phone(random)}`, From: "rcs:acme_agent" }),
    // Twilio signs the parameters it sent, as the door reads them back from the form.
    signed: (body, context) => {
      const url = `${context.serverUrl}/webhooks/twilio`;
      const params = Object.fromEntries(new URLSearchParams(body.toString("utf8")));
      return { body, headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilioSignature(url, params) } };
    },
  },
  {
    name: "vonage",
    timed: true,
    sample: (random) => ({ message_uuid: randomUUID(), to: phone(random).slice(1), from: "acme", timestamp: iso(), status: "delivered", channel: "sms" }),
    signed: () => {
      throw new Error("vonage signs asynchronously: see signVonage");
    },
  },
  {
    name: "rbm",
    timed: false,
    sample: (random) => ({ senderPhoneNumber: phone(random), eventType: "DELIVERED", eventId: id(random, "Mx"), messageId: id(random, "msg_"), sendTime: iso(), agentId: "acme@rbm.goog" }),
    // The signature is over the decoded event: `body` becomes the envelope's data.
    signed: (data) => {
      const messageId = randomUUID();
      const envelope = { message: { attributes: {}, data: data.toString("base64"), messageId, publishTime: iso() }, subscription: "projects/acme/subscriptions/rbm" };
      return { body: Buffer.from(JSON.stringify(envelope)), headers: { "x-goog-signature": rbmSignature(data) } };
    },
  },
  {
    name: "sinch",
    timed: true,
    sample: (random) => ({
      app_id: "01APP",
      event_time: iso(),
      message_delivery_report: { message_id: id(random, "01"), status: "DELIVERED", channel_identity: { channel: "RCS", identity: phone(random).slice(1) } },
    }),
    signed: (body, _context, offset) => {
      const nonce = randomUUID();
      const timestamp = String(nowSeconds() + offset);
      const signature = hmacOver("sha256", TEST_SINCH_SECRET, body, `.${nonce}.${timestamp}`).toString("base64");
      return {
        body,
        headers: {
          "x-sinch-webhook-signature": signature,
          "x-sinch-webhook-signature-nonce": nonce,
          "x-sinch-webhook-signature-timestamp": timestamp,
          "x-sinch-webhook-signature-algorithm": "HmacSHA256",
        },
      };
    },
  },
  {
    name: "infobip",
    timed: false,
    sample: (random) => ({
      results: [{ messageId: id(random, "ib"), to: phone(random).slice(1), doneAt: iso(), status: { groupId: 3, groupName: "DELIVERED", id: 5, name: "DELIVERED_TO_HANDSET" } }],
    }),
    signed: (body) => ({ body, headers: { authorization: basicAuthorization(TEST_INFOBIP_BASIC) } }),
  },
  {
    name: "sendgrid",
    timed: true,
    sample: (random) => [{ email: "a@example.com", event: "delivered", sg_event_id: id(random, "sg"), sg_message_id: id(random, "sgm"), timestamp: nowSeconds() }],
    signed: (body, _context, offset) => {
      const timestamp = String(nowSeconds() + offset);
      const signature = sign("sha256", Buffer.concat([Buffer.from(timestamp), body]), { key: TEST_SENDGRID_KEYS.privateKey, dsaEncoding: "der" });
      return { body, headers: { "x-twilio-email-event-webhook-signature": signature.toString("base64"), "x-twilio-email-event-webhook-timestamp": timestamp } };
    },
  },
  {
    name: "mailgun",
    timed: true,
    sample: (random) => ({ id: id(random, "mg"), event: "delivered", timestamp: nowSeconds(), recipient: "a@example.com", message: { headers: { "message-id": `${id(random, "")}@example.com` } } }),
    // Signed inside the body: `body` is the event-data's JSON text (malformed or not).
    signed: (eventData, _context, offset) => {
      const timestamp = String(nowSeconds() + offset);
      const token = randomUUID().replaceAll("-", "");
      const signature = createHmac("sha256", TEST_MAILGUN_SIGNING_KEY).update(timestamp + token).digest("hex");
      return { body: Buffer.concat([Buffer.from(`{"signature":${JSON.stringify({ timestamp, token, signature })},"event-data":`), eventData, Buffer.from("}")]), headers: {} };
    },
  },
  {
    name: "ses",
    timed: true,
    sample: (random) => ({
      eventType: "Delivery",
      mail: { messageId: id(random, "ses"), timestamp: iso(), destination: ["a@example.com"] },
      delivery: { recipients: ["a@example.com"], timestamp: iso() },
    }),
    // The SNS envelope is signed over its fields: `body` becomes its Message.
    signed: (message, context, offset) => {
      const envelope = snsNotification(context.sns, message.toString("utf8"), { timestamp: new Date(Date.now() + offset * 1000) });
      return { body: Buffer.from(JSON.stringify(envelope)), headers: { "content-type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification" } };
    },
  },
];

/** Every door's name, as the registry has them (the test checks the two agree). */
export const FUZZED_DOORS = DOORS.map((door) => door.name);

async function signFor(door: Door, body: Buffer, context: FuzzContext, offset: number) {
  if (door.name !== "vonage") return door.signed(body, context, offset);
  return { body, headers: { authorization: await vonageAuthorization(body.toString("latin1"), { issuedAt: nowSeconds() + offset, payloadHash: createHash("sha256").update(body).digest("hex") }) } };
}

/** A random path in a JSON value (an object key or an array index at each step). */
function setAtRandomPath(value: unknown, random: Prng, replacement: unknown): unknown {
  if (typeof value !== "object" || value === null || random.int(4) === 0) return replacement;
  if (Array.isArray(value)) {
    const copy: unknown[] = [...(value as unknown[])];
    const index = random.int(copy.length + 1);
    copy[index] = setAtRandomPath(copy[index], random, replacement);
    return copy;
  }
  const keys = Object.keys(value);
  const key = random.int(5) === 0 ? random.pick(["__proto__", "constructor", "prototype", "", "\u0000", "a".repeat(3000)]) : random.pick(keys);
  const copy: Record<string, unknown> = { ...value };
  Object.defineProperty(copy, key, { value: setAtRandomPath(copy[key], random, replacement), enumerable: true, configurable: true, writable: true });
  return copy;
}

/** Text a door's format never is, or a body past the limit. */
function malformedBody(random: Prng): { body: Buffer; name: string; maybeValid?: boolean } {
  return random.pick<() => { body: Buffer; name: string; maybeValid?: boolean }>([
    () => ({ name: "random bytes", body: random.bytes(random.int(2000)) }),
    () => ({ name: "invalid UTF-8", body: Buffer.concat([Buffer.from('{"event":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from('"}')]) }),
    () => ({ name: "empty", body: Buffer.alloc(0) }),
    () => ({ name: "truncated JSON", body: Buffer.from('{"event":"message.delivered","timestamp":') }),
    () => ({ name: "a JSON scalar", body: Buffer.from(random.pick(["null", "true", "42", '"text"', "{}"])) }),
    // An empty batch: SendGrid's format allows it (nothing to store).
    () => ({ name: "an empty array", body: Buffer.from("[]"), maybeValid: true }),
    () => ({ name: "nested 5,000 deep", body: Buffer.from(toJson(nested(5_000, "1", random.int(2) === 0))) }),
    () => ({ name: "a raw NUL byte", body: Buffer.from('{"a":"b\u0000c"}') }),
  ])();
}

/**
 * One hostile delivery for a random door. Categories: no or a wrong signature; a valid signature
 * over a malformed body; a valid payload with one hostile value (wrong type, NUL, lone surrogate,
 * 1 MB, 5,000 deep, __proto__/constructor keys) signed; a stale or future signed time; an oversized
 * body; a wrong content type.
 */
export async function hostileWebhook(random: Prng, context: FuzzContext): Promise<WebhookCase> {
  const door = random.pick(DOORS);
  const contentType: Record<string, string> =
    random.int(6) === 0 ? { "content-type": random.pick(["text/plain", "multipart/form-data; boundary=x", "application/xml", "", "application/json; charset=latin1"]) } : {};
  // Out of 20: unsigned malformed 2, signed malformed 4, hostile values 10, stale or future 3, oversized 1.
  const category = random.int(20);

  if (category <= 1) {
    const { body, name } = malformedBody(random);
    // Basic credentials (EnableX, Infobip) are right whatever the body; signatures are for other bytes.
    const headers = random.int(2) === 0 ? {} : (await signFor(door, random.bytes(16), context, 0)).headers;
    return { name: `${door.name}: ${name}, unsigned or signed for other bytes`, door: door.name, body, headers: { ...headers, ...contentType }, mustRefuse: true };
  }
  if (category <= 5) {
    const { body, name, maybeValid } = malformedBody(random);
    const signed = await signFor(door, body, context, 0);
    return { name: `${door.name}: validly signed ${name}`, door: door.name, ...signed, headers: { ...signed.headers, ...contentType }, mustRefuse: !maybeValid };
  }
  if (category <= 15) {
    const hostile = category <= 10 ? hostileValue(random) : random.pick([`a\u0000b`, "\ud800", "\udfff", hostileText(random)]);
    const payload = setAtRandomPath(door.sample(random), random, hostile);
    const text = door.name === "twilio" ? new URLSearchParams(flatten(payload)).toString() : toJson(payload);
    const signed = await signFor(door, Buffer.from(text), context, 0);
    // JSON escapes the string wherever it lands, and it is decoded back; a form keeps only a NUL
    // that is a field's own value (a lone surrogate becomes U+FFFD, and nested values are JSON text).
    const unstorable = typeof hostile === "string" && (door.name === "twilio" ? text.includes("%00") : /[\0\ud800-\udfff]/.test(hostile));
    return { name: `${door.name}: a valid payload with a hostile value`, door: door.name, ...signed, headers: { ...signed.headers, ...contentType }, mustRefuse: unstorable };
  }
  if (category <= 18) {
    const timed = random.pick(DOORS.filter((candidate) => candidate.timed));
    const offset = outsideWindow(random);
    const signed = await signFor(timed, Buffer.from(toJson(timed.sample(random))), context, offset);
    return { name: `${timed.name}: a signed time ${offset} s away`, door: timed.name, ...signed, mustRefuse: true };
  }
  const oversized = Buffer.alloc(WEBHOOK_BODY_LIMIT + 1 + random.int(4096), "a");
  return { name: `${door.name}: a body past the limit`, door: door.name, body: oversized, headers: { ...(await signFor(door, Buffer.from("{}"), context, 0)).headers, ...contentType }, mustRefuse: true };
}

/** Form fields for Twilio: every value as text (objects as JSON). */
function flatten(payload: unknown): Record<string, string> {
  if (typeof payload !== "object" || payload === null) return { value: String(payload) };
  return Object.fromEntries(Object.entries(payload).map(([key, value]) => [key, typeof value === "string" ? value : toJson(value)]));
}
