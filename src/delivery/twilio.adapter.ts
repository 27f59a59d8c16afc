import type { DeliveryAdapter, OtpRequest, ReplyRequest, SendOutcome, SendRequest } from "./adapter.js";
import type { FetchLike } from "./generic-cpaas.adapter.js";
import { isTransientStatus, parseJsonObject, retryAfterMs } from "./http-outcome.js";
import { formatExpiry, renderNotificationText, renderOtpText } from "./notification-text.js";

/*
 * Twilio Programmable Messaging, "Create a Message resource" — facts this adapter relies on, as
 * documented by Twilio (messaging/api/message-resource, the twilio-go API docs, rcs/send-an-rcs-message,
 * api/errors):
 * - `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth with the Account SID
 *   as user and the Auth Token as password, an `application/x-www-form-urlencoded` body.
 * - `To` is required (E.164 for SMS, or a channel address); a sender is `From` or `MessagingServiceSid`;
 *   `Body` carries the text; `StatusCallback` is the URL Twilio POSTs status changes to (it overrides a
 *   Messaging Service's callback).
 * - Success is a JSON Message resource whose `sid` identifies the message (the id status callbacks carry
 *   as `MessageSid`).
 * - Errors are JSON `{ code, message, more_info, status }`, e.g. 400 with code 21211 when `To` is not a
 *   valid phone number.
 * - HTTP 429 (error 20429): "never processed and is always safe to retry" — honoured with `Retry-After`
 *   when present (Twilio does not promise the header).
 * - RCS: sending directly, without Twilio's own fallback, means `From` = the RCS Sender (`rcs:<id>`) and
 *   `To` = the recipient's `rcs:` address. A Messaging Service with an RCS Sender in its pool tries RCS
 *   first and falls back to SMS/MMS inside Twilio. Error 63106: the handset is not RCS-capable.
 * - Rich content: `ContentSid` (an `HX…` Content Template, e.g. a `twilio/card` with URL and QUICK_REPLY
 *   actions) and `ContentVariables`, a JSON object of the template's numbered variables as strings,
 *   replace `Body`. A tapped QUICK_REPLY comes back inbound as `ButtonPayload` = the action's `id`
 *   (verbatim since 14 July 2025) and `ButtonText`.
 * - Idempotency: Create Message has no idempotency key, so a send repeated after an unanswered request
 *   (timeout, crash before the answer was stored) can reach the recipient twice. What Ackline can do is
 *   put its client message id in the `StatusCallback` query: Twilio signs the full callback URL
 *   (X-Twilio-Signature), so that id comes back authenticated on every receipt of that message, even
 *   one whose SID Ackline never recorded. (`ProvideFeedback` is for the Message Feedback resource, not
 *   for deduplication.)
 */

/** Twilio error codes that mean "this recipient cannot get this channel": a fallback trigger. */
const NOT_CAPABLE = {
  /** 63106: the handset associated with the phone number is not RCS capable. */
  RCS: new Set([63106]),
  /** 21614: the 'To' number is not a valid mobile number (cannot receive SMS). */
  SMS: new Set([21614]),
} as const;

/** Twilio's rate-limit error (HTTP 429). */
const TOO_MANY_REQUESTS = 20429;

export interface TwilioAdapterOptions {
  accountSid: string;
  authToken: string;
  /** SMS sender: an E.164 number, alphanumeric sender id or short code. */
  from?: string;
  /** A Messaging Service: the SMS sender when `from` is unset, the RCS sender when `rcsSender` is unset. */
  messagingServiceSid?: string;
  /** The RCS Sender for direct RCS sends (`rcs:<id>` or just `<id>`); Twilio then does no fallback of its own. */
  rcsSender?: string;
  /** An RCS Content Template (`TWILIO_CONTENT_SID`) taking the notification's variables (see contentVariables): RCS then goes as a rich card. */
  contentSid?: string;
  /** Ackline's `/webhooks/twilio` URL as Twilio must call it (asked per send: known once listening); Ackline adds `client_message_id` to its query. */
  statusCallbackUrl?: () => string;
  /** Default `https://api.twilio.com`; tests point it at a local fake. */
  baseUrl?: string;
  fetch?: FetchLike;
  timeoutMs?: number;
}

/** The form fields of one Create Message request (what the fake server parses back). */
export interface TwilioCreateMessageForm {
  To: string;
  From?: string;
  MessagingServiceSid?: string;
  /** Plain text, or… */
  Body?: string;
  /** …a Content Template and its variables (JSON). */
  ContentSid?: string;
  ContentVariables?: string;
  StatusCallback?: string;
}

/**
 * The Content Template's variables for a notification: 1 the sender, 2 the file name, 3 the expiry,
 * 4 the download link's path and query (the template's URL action is `<public origin>/{{4}}`:
 * Twilio wants a URL variable after a fixed origin), 5 the transfer id (its Verify ID quick reply's
 * id is `verify:{{5}}`).
 */
export function contentVariables(request: SendRequest): Record<"1" | "2" | "3" | "4" | "5", string> {
  const link = new URL(request.link);
  return {
    "1": request.transfer.senderName,
    "2": request.transfer.fileName,
    "3": formatExpiry(request.transfer.expiresAt),
    "4": `${link.pathname.slice(1)}${link.search}`,
    "5": request.transfer.id,
  };
}

function withClientMessageId(callbackUrl: string, clientMessageId: string): string {
  const url = new URL(callbackUrl);
  url.searchParams.set("client_message_id", clientMessageId);
  return url.toString();
}

export function createTwilioAdapter(options: TwilioAdapterOptions): DeliveryAdapter {
  const doFetch = options.fetch ?? fetch;
  const base = (options.baseUrl ?? "https://api.twilio.com").replace(/\/+$/, "");
  const endpoint = `${base}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString("base64")}`;
  const rcsSender = options.rcsSender && (options.rcsSender.startsWith("rcs:") ? options.rcsSender : `rcs:${options.rcsSender}`);

  /** Sender and recipient address for the channel, or why this configuration cannot send it. */
  function route(channel: SendRequest["message"]["channel"], phone: string): Pick<TwilioCreateMessageForm, "To" | "From" | "MessagingServiceSid"> | string {
    if (channel === "RCS") {
      if (rcsSender) return { To: `rcs:${phone}`, From: rcsSender };
      if (options.messagingServiceSid) return { To: phone, MessagingServiceSid: options.messagingServiceSid };
      return "twilio: no RCS sender configured (rcsSender or messagingServiceSid)";
    }
    if (channel === "SMS") {
      if (options.from) return { To: phone, From: options.from };
      if (options.messagingServiceSid) return { To: phone, MessagingServiceSid: options.messagingServiceSid };
      return "twilio: no SMS sender configured (from or messagingServiceSid)";
    }
    return `twilio: channel ${channel} is not sent through Twilio Messaging`;
  }

  /** One Create Message request, its answer classified. */
  async function post(channel: SendRequest["message"]["channel"], form: TwilioCreateMessageForm): Promise<SendOutcome> {
    let response: Response;
    try {
      response = await doFetch(endpoint, {
        method: "POST",
        headers: { authorization, "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: new URLSearchParams(Object.entries(form).filter((entry): entry is [string, string] => typeof entry[1] === "string")).toString(),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      return { kind: "transient", error: `twilio: network error: ${(error as Error).message}` };
    }
    const text = await response.text();
    const json = parseJsonObject(text);
    if (response.ok) {
      const sid = json?.sid;
      if (typeof sid !== "string" || sid === "") return { kind: "transient", error: "twilio answered 2xx without a message sid", code: response.status };
      return { kind: "accepted", providerMessageId: sid, code: response.status };
    }
    const twilioCode = typeof json?.code === "number" ? json.code : undefined;
    const detail = typeof json?.message === "string" ? json.message : text.slice(0, 200);
    const error = `twilio answered ${response.status}${twilioCode ? ` (error ${twilioCode})` : ""}: ${detail}`;
    if (isTransientStatus(response.status) || twilioCode === TOO_MANY_REQUESTS) {
      return { kind: "transient", error, code: response.status, retryAfterMs: retryAfterMs(response.headers.get("retry-after")) };
    }
    const notCapable = twilioCode !== undefined && (channel === "RCS" ? NOT_CAPABLE.RCS : channel === "SMS" ? NOT_CAPABLE.SMS : undefined)?.has(twilioCode) === true;
    return { kind: "permanent", error, code: response.status, notCapable };
  }

  return {
    provider: "twilio",
    async send(request: SendRequest): Promise<SendOutcome> {
      const { message, transfer } = request;
      if (!transfer.recipientPhone) return { kind: "permanent", error: "twilio: transfer has no recipient phone" };
      const routed = route(message.channel, transfer.recipientPhone);
      if (typeof routed === "string") return { kind: "permanent", error: routed };
      // RCS as the rich card with its two buttons when a Content Template is configured; SMS stays plain text.
      const content =
        message.channel === "RCS" && options.contentSid
          ? { ContentSid: options.contentSid, ContentVariables: JSON.stringify(contentVariables(request)) }
          : { Body: renderNotificationText(request) };
      return post(message.channel, {
        ...routed,
        ...content,
        ...(options.statusCallbackUrl ? { StatusCallback: withClientMessageId(options.statusCallbackUrl(), message.clientMessageId) } : {}),
      });
    },

    async sendOtp(request: OtpRequest): Promise<SendOutcome> {
      const phone = request.transfer.recipientPhone;
      if (!phone) return { kind: "permanent", error: "twilio: transfer has no recipient phone" };
      const routed = route("SMS", phone);
      if (typeof routed === "string") return { kind: "permanent", error: routed };
      return post("SMS", { ...routed, Body: renderOtpText(request) });
    },

    async reply({ phone, text }: ReplyRequest): Promise<SendOutcome> {
      const routed = route("RCS", phone);
      if (typeof routed === "string") return { kind: "permanent", error: routed };
      return post("RCS", { ...routed, Body: text });
    },
  };
}
