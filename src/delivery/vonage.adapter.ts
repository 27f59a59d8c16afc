import { randomUUID } from "node:crypto";
import { importPKCS8, SignJWT } from "jose";
import type { RevokeOutcome } from "../domain/model.js";
import type { DeliveryAdapter, OtpRequest, ReplyRequest, SendOutcome, SendRequest } from "./adapter.js";
import type { FetchLike } from "./generic-cpaas.adapter.js";
import { isTransientStatus, parseJsonObject, retryAfterMs } from "./http-outcome.js";
import { type NotificationCard, notificationCard, renderNotificationText, renderOtpText } from "./notification-text.js";

/*
 * Vonage Messages API v1, "Send a message" — facts this adapter relies on, as documented by Vonage
 * (developer.vonage.com/api/messages, /api-errors, /getting-started/concepts/authentication, the
 * JWT generator page, and the @vonage/messages SDK):
 * - `POST https://api.nexmo.com/v1/messages` with a JSON body `{ message_type: "text", text, to, from,
 *   channel, client_ref?, webhook_url?, webhook_version? }`; `channel` is `sms` or `rcs` here.
 * - `to` (and a numeric `from`) are E.164 without a leading `+` or `00`; for RCS, `from` is the RCS
 *   sender (agent) id; `text` is limited to 1000 characters.
 * - Auth is either HTTP Basic (`api_key:api_secret`) or `Authorization: Bearer <JWT>` — not both. Basic
 *   "does not support webhooks or advanced features such as ACLs", and Vonage's RCS examples use a JWT:
 *   the application JWT (RS256 with the application's private key; claims `application_id`, `iat`,
 *   `jti`, `exp`) is the production choice.
 * - `client_ref` is echoed in every status webhook of the message: Ackline's client message id. It is a
 *   correlation handle, not server-side deduplication (Vonage documents none for this endpoint).
 * - `webhook_url` overrides the account/application status-webhook URL for this one message;
 *   `webhook_version` pins the payload format (`v1`).
 * - Success is `202 Accepted` with `{ message_uuid }`, the id status webhooks carry.
 * - Errors are RFC 7807 problem details `{ type, title, detail, instance }` (invalid parameters add
 *   `invalid_parameters`); the Messages error list names 1000 "Throttled … Please wait and retry",
 *   1030 "Internal error" and 1100 "Communication Failed" — retried like 429 and 5xx. Everything else
 *   4xx (401 credentials, 402 balance, 422 invalid parameters, barred numbers …) is permanent.
 * - RCS rich content goes as `message_type: "custom"` with a `custom` object, which Vonage passes through
 *   to Google RBM unvalidated: an RBM AgentContentMessage (`contentMessage.richCard.standaloneCard`,
 *   `cardContent { title, description, suggestions }`; a suggested action `{ action: { text, postbackData,
 *   openUrlAction: { url } } }`, a suggested reply `{ reply: { text, postbackData } }`). A tapped reply
 *   comes back as an inbound `reply` (`reply.id` = the postback), a tapped action as a `button`.
 * - RCS reachability is not reported synchronously: an unreachable handset comes back as a `rejected`
 *   status webhook, so this adapter never answers `notCapable`.
 * - An RCS message not yet delivered can be revoked within 24 hours: `PATCH /v1/messages/{uuid}` with
 *   `{"status": "revoked"}`, sent to the regional host where the agent was launched (api-eu, api-us or
 *   api-ap.nexmo.com: `VONAGE_API_URL`). Vonage does not promise the revocation takes effect.
 */

/** Messages API error codes (the `#NNNN` of a problem `type`, or its `title`) that are worth a retry. */
const TRANSIENT_ERROR_CODES = new Set(["1000", "1030", "1100"]);

const JWT_LIFETIME_S = 15 * 60;

export type VonageAuth =
  /** Application JWT: RS256 with the application's private key (PEM, PKCS#8, as the dashboard issues it). */
  | { applicationId: string; privateKey: string }
  /** Account API key and secret (HTTP Basic). */
  | { apiKey: string; apiSecret: string };

export interface VonageAdapterOptions {
  auth: VonageAuth;
  /** SMS sender: a Vonage number (E.164, `+` optional) or an alphanumeric sender id. */
  smsFrom?: string;
  /** RCS sender (agent) id from Vonage's RCS onboarding. */
  rcsFrom?: string;
  /** Ackline's `/webhooks/vonage` URL, set per message as `webhook_url` (asked per send: known once listening). */
  statusWebhookUrl?: () => string;
  /** Default `https://api.nexmo.com`; tests point it at a local fake. */
  baseUrl?: string;
  fetch?: FetchLike;
  timeoutMs?: number;
}

/** Google RBM's AgentContentMessage, as Vonage's RCS `custom` type passes it through. */
export interface RbmContent {
  contentMessage: {
    richCard: {
      standaloneCard: {
        cardOrientation: "VERTICAL";
        cardContent: {
          title: string;
          description: string;
          suggestions: Array<{ action: { text: string; postbackData: string; openUrlAction: { url: string } } } | { reply: { text: string; postbackData: string } }>;
        };
      };
    };
  };
}

/** The JSON body of one send (what the fake server parses back): plain text, or (RCS) the rich card. */
export type VonageSendBody = {
  to: string;
  from: string;
  channel: "sms" | "rcs";
  client_ref: string;
  webhook_url?: string;
  webhook_version?: "v1";
} & ({ message_type: "text"; text: string } | { message_type: "custom"; custom: RbmContent });

/** The notification card as an RBM standalone rich card: Download opens the link, Verify ID is a suggested reply. */
function rbmRichCard(card: NotificationCard): RbmContent {
  const { download, verify } = card;
  return {
    contentMessage: {
      richCard: {
        standaloneCard: {
          cardOrientation: "VERTICAL",
          cardContent: {
            title: card.title,
            description: card.description,
            suggestions: [
              { action: { text: download.text, postbackData: download.postback, openUrlAction: { url: download.url } } },
              { reply: { text: verify.text, postbackData: verify.postback } },
            ],
          },
        },
      },
    },
  };
}

/** E.164 as Vonage wants it: digits only, no `+` or `00` prefix. */
export function vonageNumber(e164: string): string {
  const digits = e164.replace(/[\s()-]/g, "");
  if (digits.startsWith("+")) return digits.slice(1);
  if (digits.startsWith("00")) return digits.slice(2);
  return digits;
}

/** `#1000` from `https://developer.vonage.com/api-errors/messages#1000`, else a numeric title. */
function problemCode(problem: Record<string, unknown> | undefined): string | undefined {
  const type = typeof problem?.type === "string" ? problem.type : "";
  const fragment = /#(\d+)$/.exec(type)?.[1];
  if (fragment) return fragment;
  return typeof problem?.title === "string" && /^\d+$/.test(problem.title) ? problem.title : undefined;
}

function authorizer(auth: VonageAuth): () => Promise<string> {
  if ("apiKey" in auth) {
    const basic = `Basic ${Buffer.from(`${auth.apiKey}:${auth.apiSecret}`).toString("base64")}`;
    return async () => basic;
  }
  let key: ReturnType<typeof importPKCS8> | undefined;
  let cached: { header: string; renewAt: number } | undefined;
  return async () => {
    const now = Math.floor(Date.now() / 1000);
    if (cached && now < cached.renewAt) return cached.header;
    key ??= importPKCS8(auth.privateKey, "RS256");
    const jwt = await new SignJWT({ application_id: auth.applicationId })
      .setProtectedHeader({ alg: "RS256", typ: "JWT" })
      .setIssuedAt(now)
      .setJti(randomUUID())
      .setExpirationTime(now + JWT_LIFETIME_S)
      .sign(await key);
    cached = { header: `Bearer ${jwt}`, renewAt: now + JWT_LIFETIME_S - 60 };
    return cached.header;
  };
}

export function createVonageAdapter(options: VonageAdapterOptions): DeliveryAdapter {
  const doFetch = options.fetch ?? fetch;
  const endpoint = `${(options.baseUrl ?? "https://api.nexmo.com").replace(/\/+$/, "")}/v1/messages`;
  const authorization = authorizer(options.auth);
  const requestInit = (method: "POST" | "PATCH", authHeader: string, body: unknown): RequestInit => ({
    method,
    headers: { authorization: authHeader, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });

  function sender(channel: SendRequest["message"]["channel"]): { channel: "sms" | "rcs"; from: string } | string {
    if (channel === "RCS") return options.rcsFrom ? { channel: "rcs", from: options.rcsFrom } : "vonage: no RCS sender configured (rcsFrom)";
    if (channel === "SMS") return options.smsFrom ? { channel: "sms", from: /^\+?\d+$/.test(options.smsFrom) ? vonageNumber(options.smsFrom) : options.smsFrom } : "vonage: no SMS sender configured (smsFrom)";
    return `vonage: channel ${channel} is not sent through the Messages API here`;
  }

  /** One send, its answer classified. */
  async function post(body: VonageSendBody): Promise<SendOutcome> {
    let authHeader: string;
    try {
      authHeader = await authorization();
    } catch (error) {
      return { kind: "permanent", error: `vonage: cannot sign the application JWT: ${(error as Error).message}` };
    }
    let response: Response;
    try {
      response = await doFetch(endpoint, requestInit("POST", authHeader, body));
    } catch (error) {
      return { kind: "transient", error: `vonage: network error: ${(error as Error).message}` };
    }
    const text = await response.text();
    const json = parseJsonObject(text);
    if (response.ok) {
      const uuid = json?.message_uuid;
      if (typeof uuid !== "string" || uuid === "") return { kind: "transient", error: "vonage answered 2xx without a message_uuid", code: response.status };
      return { kind: "accepted", providerMessageId: uuid, code: response.status };
    }
    const code = problemCode(json);
    const explained = [json?.title, json?.detail].filter((part): part is string => typeof part === "string" && part !== "").join(": ");
    const error = `vonage answered ${response.status}${code ? ` (error ${code})` : ""}: ${explained || text.slice(0, 200)}`;
    if (isTransientStatus(response.status) || (code !== undefined && TRANSIENT_ERROR_CODES.has(code))) {
      return { kind: "transient", error, code: response.status, retryAfterMs: retryAfterMs(response.headers.get("retry-after")) };
    }
    return { kind: "permanent", error, code: response.status, notCapable: false };
  }

  return {
    provider: "vonage",
    async send(request: SendRequest): Promise<SendOutcome> {
      const { message, transfer } = request;
      if (!transfer.recipientPhone) return { kind: "permanent", error: "vonage: transfer has no recipient phone" };
      const route = sender(message.channel);
      if (typeof route === "string") return { kind: "permanent", error: route };
      // RCS gets the seed's card with its two buttons; SMS stays plain text.
      const content =
        route.channel === "rcs"
          ? { message_type: "custom" as const, custom: rbmRichCard(notificationCard(request)) }
          : { message_type: "text" as const, text: renderNotificationText(request) };
      return post({
        ...content,
        to: vonageNumber(transfer.recipientPhone),
        from: route.from,
        channel: route.channel,
        client_ref: message.clientMessageId,
        ...(options.statusWebhookUrl ? { webhook_url: options.statusWebhookUrl(), webhook_version: "v1" as const } : {}),
      });
    },

    async sendOtp(request: OtpRequest): Promise<SendOutcome> {
      const phone = request.transfer.recipientPhone;
      if (!phone) return { kind: "permanent", error: "vonage: transfer has no recipient phone" };
      const route = sender("SMS");
      if (typeof route === "string") return { kind: "permanent", error: route };
      return post({ message_type: "text", text: renderOtpText(request), to: vonageNumber(phone), from: route.from, channel: route.channel, client_ref: request.clientMessageId.slice(0, 40) });
    },

    async reply({ phone, text, clientRef }: ReplyRequest): Promise<SendOutcome> {
      const route = sender("RCS");
      if (typeof route === "string") return { kind: "permanent", error: route };
      return post({ message_type: "text", text, to: vonageNumber(phone), from: route.from, channel: route.channel, client_ref: clientRef });
    },

    async revoke({ channel, providerMessageId }): Promise<RevokeOutcome> {
      if (channel !== "RCS") return { revoked: false, error: "vonage revokes RCS messages only" };
      try {
        const response = await doFetch(`${endpoint}/${encodeURIComponent(providerMessageId)}`, requestInit("PATCH", await authorization(), { status: "revoked" }));
        if (response.ok) return { revoked: true, code: response.status };
        return { revoked: false, code: response.status, error: `vonage answered ${response.status}: ${(await response.text()).slice(0, 200)}` };
      } catch (error) {
        return { revoked: false, error: `vonage: ${(error as Error).message}` };
      }
    },
  };
}
