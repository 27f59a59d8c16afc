import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import type { Config } from "../config.js";
import type { NormalizedEvent, TemplateUpdate } from "../domain/model.js";
import { parsePostback } from "../domain/postback.js";

/** Secrets each door verifies with (read from the environment, or a tenant's source); an absent one means the door refuses everything (fail closed). */
export type WebhookSecrets = Config["webhookSecrets"];

/** A delivery's canonical content, read from its raw body (and the request parts its door names) without any secret. */
export interface NormalizedDelivery {
  events: NormalizedEvent[];
  templateUpdates: TemplateUpdate[];
  /** The answer the provider expects once the events are stored (default: Ackline's JSON receipt). */
  reply?: { contentType: string; body: string };
}

/** What verification found that the door acts on once the delivery is accepted. */
export interface Verification {
  /** A single-use token the provider signed: refused if already spent, spent once the delivery is durably accepted. */
  replayToken?: ReplayToken;
  /** An SNS SubscribeURL (already validated) to visit once the delivery is accepted: confirms the subscription. */
  confirmSubscription?: string;
}

export type ParsedDelivery = NormalizedDelivery & Verification;

export interface ReplayToken {
  token: string;
  /** After this the sender's timestamp check refuses the token anyway: it need not be remembered longer. */
  expiresAt: Date;
}

/** What a door sees of the request besides its body. */
export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  /** The URL as the provider called it (some schemes sign it): the public base, then the path and query as received. */
  url: string;
}

type Checked = Verification | void | Promise<Verification | void>;

/** One provider's door, in its own file: verify the raw bytes, then normalize. Nothing else. Synchronous where its checks allow. */
interface WebhookDoor<Check extends Checked> {
  name: string;
  /** The secrets a tenant gives for its own source of this provider (GraphQL `secrets`), as this door verifies with them. */
  sourceSecrets: z.ZodType<WebhookSecrets>;
  /** The headers `normalize` reads (lower case): the delivery log keeps these and the URL for a replay, never a credential. */
  normalizedHeaders?: readonly string[];
  /** Signature, credentials, timestamp window and replay checks on the raw bytes and headers: throws a WebhookRejection. */
  verify(rawBody: Buffer, request: WebhookRequest, secrets: WebhookSecrets, now: Date): Check;
  /** Raw body → canonical events, with no secret and no clock check: a replay runs it alone on a logged delivery, `now` its receipt time. */
  normalize(rawBody: Buffer, request: WebhookRequest, now: Date): NormalizedDelivery;
}

export interface WebhookProvider<Result extends ParsedDelivery | Promise<ParsedDelivery> = ParsedDelivery | Promise<ParsedDelivery>> extends WebhookDoor<Checked> {
  /** `verify`, then `normalize`: what the live door runs. */
  parse(rawBody: Buffer, request: WebhookRequest, secrets: WebhookSecrets, now: Date): Result;
}

/** A door from its two halves; `parse` runs them in order (synchronously when `verify` is). */
export function webhookProvider<Check extends Checked>(door: WebhookDoor<Check>): WebhookProvider<Check extends Promise<unknown> ? Promise<ParsedDelivery> : ParsedDelivery> {
  return {
    ...door,
    parse(rawBody, request, secrets, now) {
      const verified = door.verify(rawBody, request, secrets, now);
      const parsed = (verification: Verification | void): ParsedDelivery => ({ ...door.normalize(rawBody, request, now), ...verification });
      return (verified instanceof Promise ? verified.then(parsed) : parsed(verified)) as Check extends Promise<unknown> ? Promise<ParsedDelivery> : ParsedDelivery;
    },
  };
}

/** One secret as a tenant gives it. */
export const secretText = z.string().min(1, "must not be empty").max(4096, "is longer than 4096 characters");

/** A source's secrets: exactly these keys, each a non-empty string. */
export function sourceSecretsOf<Key extends string>(keys: readonly Key[], toSecrets: (values: Record<Key, string>) => WebhookSecrets): z.ZodType<WebhookSecrets> {
  return z.strictObject(Object.fromEntries(keys.map((key) => [key, secretText])) as Record<Key, typeof secretText>).transform((values) => toSecrets(values as Record<Key, string>));
}

/** HTTP Basic sources: `username` (no colon, as Basic requires) and `password`, checked as `user:password`. */
export function basicSourceSecrets(toSecrets: (credentials: string) => WebhookSecrets): z.ZodType<WebhookSecrets> {
  return z
    .strictObject({ username: secretText.regex(/^[^:]*$/, "must not contain a colon"), password: secretText })
    .transform(({ username, password }) => toSecrets(`${username}:${password}`));
}

export class WebhookRejection extends Error {
  constructor(
    readonly statusCode: 400 | 401 | 503,
    message: string,
  ) {
    super(message);
  }
}

export const unauthorized = (reason: string) => new WebhookRejection(401, reason);
export const malformed = (reason: string) => new WebhookRejection(400, reason);
/** Refused for now, not for good: the provider retries (only for senders that retry 5xx and not 4xx). */
export const retryLater = (reason: string) => new WebhookRejection(503, reason);

/** Constant-time equality that never throws on a length mismatch (an attacker picks the length). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function hmacSha256(key: Buffer | string, data: Buffer | string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** HTTP Basic credentials (`user:password`) checked in constant time; none configured refuses everything. */
export function verifyBasic(header: string | string[] | undefined, expected: string | undefined, provider: string): void {
  if (!expected) throw unauthorized(`${provider} basic credentials are not configured`);
  const match = /^Basic\s+(.+)$/i.exec(String(header ?? ""));
  if (!match) throw unauthorized("missing Basic authorization");
  if (!safeEqual(Buffer.from(match[1]!, "base64"), Buffer.from(expected))) throw unauthorized("credentials do not match");
}

/** How old a signed timestamp may be before the delivery counts as a replay (schemes that sign each delivery afresh). */
const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

/** A signed Unix-seconds timestamp (header `name`) within ±5 minutes of now. */
export function verifyFreshTimestamp(timestamp: string, now: Date, name: string): void {
  if (!/^\d+$/.test(timestamp)) throw unauthorized(`${name} is not a Unix time`);
  requireFresh(new Date(Number(timestamp) * 1000), now, TIMESTAMP_TOLERANCE_SECONDS, name);
}

/** Whether a hex SHA-256 the sender signed (a JWT claim, a signed URL parameter) is the body's. */
export function bodyHashMatches(rawBody: Buffer, claimedHex: string): boolean {
  // Compared as hex text: Node's lenient hex decoder would accept trailing garbage.
  return safeEqual(Buffer.from(claimedHex.toLowerCase()), Buffer.from(createHash("sha256").update(rawBody).digest("hex")));
}

/** Longest id or key a provider may send (message ids, event ids, tokens): ids and dedupe keys are indexed. */
export const MAX_PROVIDER_ID_LENGTH = 256;

/** A provider's id or key: present, and short enough to index. */
export const providerId = z.string().min(1).max(MAX_PROVIDER_ID_LENGTH, `longer than ${MAX_PROVIDER_ID_LENGTH} characters`);

/** JSON escapes that may decode to text PostgreSQL cannot store: NUL, or a surrogate (paired ones are fine). */
const SUSPECT_ESCAPE = /\\u(?:0000|d[89a-f])/i;
/** A NUL character or an unpaired surrogate (with the `u` flag a well-formed pair is one code point). */
const UNSTORABLE_TEXT = /[\0\p{Cs}]/u;

/** Where in a decoded value a key or a string holds text PostgreSQL cannot store (text and jsonb): its path, innermost first. */
function unstorableTextAt(value: unknown): string[] | undefined {
  if (typeof value === "string") return UNSTORABLE_TEXT.test(value) ? [] : undefined;
  if (typeof value !== "object" || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (UNSTORABLE_TEXT.test(key)) return [key];
    const found = unstorableTextAt(item);
    if (found) {
      found.push(key);
      return found;
    }
  }
  return undefined;
}

function parseJsonText(text: string, what = "body"): unknown {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed(`${what} is not valid JSON`);
  }
  refuseUnstorableJson(text, json, what);
  return json;
}

/** Deeper than any provider's format nests; far deeper fails to serialize, and PostgreSQL refuses it. */
const MAX_JSON_DEPTH = 64;
const OPENING_BRACKET = /[[{]/g;

/** Whether `text` holds more opening brackets than `depth`: only then can it nest deeper. Stops counting there. */
function mayNestBeyond(text: string, depth: number): boolean {
  OPENING_BRACKET.lastIndex = 0;
  for (let seen = 0; seen <= depth; seen++) if (!OPENING_BRACKET.test(text)) return false;
  return true;
}

/** How deep a decoded value nests, walked without recursion (the value may be thousands deep). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (typeof item !== "object" || item === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Refuses (400, not a 503 the provider would retry for ever) what PostgreSQL cannot store in
 * `json`, decoded from `text`: text with a NUL or an unpaired surrogate, or nesting beyond 64
 * levels. The common delivery costs a regex test and a few bracket look-ups on the raw text, and
 * JSON.parse needs no reviver; only a suspect one is walked, so escaped emoji (surrogate pairs)
 * still pass.
 */
export function refuseUnstorableJson(text: string, json: unknown, what: string): void {
  if (mayNestBeyond(text, MAX_JSON_DEPTH) && depthOf(json) > MAX_JSON_DEPTH) throw malformed(`${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (SUSPECT_ESCAPE.test(text)) refuseUnstorableText(json, what);
}

function refuseUnstorableText(value: unknown, what: string): void {
  const path = unstorableTextAt(value);
  if (path) throw malformed(`${[what, ...path.reverse()].join(".")} holds text that cannot be stored (a NUL character or an unpaired surrogate)`);
}

export function parseJsonBody<T>(rawBody: Buffer, schema: z.ZodType<T>): T {
  return parsePayload(parseJsonText(rawBody.toString("utf8")), schema);
}

/** A form-encoded body's fields (the last of a repeated name); `%00` is refused as in JSON bodies. */
export function parseFormBody<T>(rawBody: Buffer, schema: z.ZodType<T>): T {
  const fields = Object.fromEntries(new URLSearchParams(rawBody.toString("utf8")));
  refuseUnstorableText(fields, "body");
  return parsePayload(fields, schema);
}

/** Validates a decoded body (or the part of it at `path`); its first problem becomes a 400 naming the field. */
export function parsePayload<T>(payload: unknown, schema: z.ZodType<T>, path: readonly PropertyKey[] = []): T {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw malformed(`${[...path, ...issue.path].join(".") || "body"}: ${issue.message}`);
  }
  return parsed.data;
}

/** How far ahead of Ackline's clock a sender's signed timestamp may be. */
const CLOCK_SKEW_SECONDS = 5 * 60;

/**
 * Refuses a signed timestamp older than `maxAgeSeconds` or more than 5 minutes ahead. The maximum
 * age is each provider's retry span where its documentation does not say retries are signed afresh.
 */
export function requireFresh(signedAt: Date, now: Date, maxAgeSeconds: number, what: string): void {
  const ageSeconds = (now.getTime() - signedAt.getTime()) / 1000;
  if (Number.isNaN(ageSeconds) || ageSeconds > maxAgeSeconds || ageSeconds < -CLOCK_SKEW_SECONDS) {
    throw unauthorized(`${what} is outside the tolerance (at most ${maxAgeSeconds} s old, ${CLOCK_SKEW_SECONDS} s ahead)`);
  }
}

const EARLIEST_EVENT = Date.UTC(1970, 0, 1);
const LATEST_EVENT = Date.UTC(9999, 11, 31);

/**
 * Provider timestamps arrive as ISO strings or Unix seconds/milliseconds; kept to the millisecond.
 * An implausible one (microseconds read as milliseconds, say) is malformed, not a storage failure.
 */
export function parseProviderTime(value: string | number): Date {
  const date = typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  const time = date.getTime();
  if (Number.isNaN(time)) throw malformed(`timestamp ${JSON.stringify(value)} is not a date`);
  if (time < EARLIEST_EVENT || time > LATEST_EVENT) throw malformed(`timestamp ${JSON.stringify(value)} is out of range`);
  return date;
}

/** The carrier-standard opt-out keywords, as a whole reply. */
const STOP_WORDS = /^\s*(stop|stopall|unsubscribe|cancel|end|quit)\s*[.!]?\s*$/i;

/** An inbound text that is the recipient opting out, not a conversation. */
export function isStopReply(text: string | undefined): boolean {
  return text !== undefined && STOP_WORDS.test(text);
}

/** A provider's channel name, where it names it `RCS` or `SMS`: any other is not one Ackline sends on. */
export const phoneChannelSchema = z.enum(["RCS", "SMS"], {
  error: (issue) => `channel ${JSON.stringify(issue.input)} is not one Ackline sends on (RCS, SMS)`,
});

/** Providers that write E.164 numbers without the `+` (Vonage, Sinch, Infobip): Ackline's phones have it. */
export function e164(phone: string): string {
  return phone.startsWith("+") ? phone : `+${phone}`;
}

/** Ackline's suggestions carry `<action>:<transfer id>` as their postback. */
export function transferIdFromPostback(postback: string | undefined): string | undefined {
  return parsePostback(postback)?.transferId;
}

/** Longest deduplication key: a door builds it from a few ids, each at most MAX_PROVIDER_ID_LENGTH. */
const MAX_DEDUPE_KEY_LENGTH = 4 * MAX_PROVIDER_ID_LENGTH;

/**
 * The keys PostgreSQL indexes, bounded whatever a door's schema let through (an id read from
 * free-form metadata, say): refused as malformed rather than failing in the store. A few length
 * checks per event, so it costs the door nothing measurable.
 */
export function refuseUnindexableKeys(delivery: NormalizedDelivery): void {
  for (const event of delivery.events) {
    if (event.dedupeKey.length > MAX_DEDUPE_KEY_LENGTH) throw malformed(`the event's key is longer than ${MAX_DEDUPE_KEY_LENGTH} characters`);
    for (const [name, value] of Object.entries(event.correlation)) {
      if (value !== undefined && (typeof value !== "string" || value.length > MAX_PROVIDER_ID_LENGTH)) {
        throw malformed(`the event's ${name} is not text of at most ${MAX_PROVIDER_ID_LENGTH} characters`);
      }
    }
  }
  for (const update of delivery.templateUpdates) {
    if (update.name.length > MAX_PROVIDER_ID_LENGTH) throw malformed(`template name longer than ${MAX_PROVIDER_ID_LENGTH} characters`);
  }
}
