import type { DeliveryAdapter, OtpRequest, ReplyRequest, SendOutcome, SendRequest } from "./adapter.js";
import { retryAfterMs } from "./http-outcome.js";

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export const TRANSFER_TEMPLATE_ID = "transfer_notification_v2";
/** A free-text answer in the conversation (a Verify ID tap's): the template's one parameter is the text. */
export const REPLY_TEMPLATE_ID = "ackline_reply";

/** The template of a download's one-time code (an SMS). */
export const OTP_TEMPLATE_ID = "ackline_otp";

/** The body of the seed's generic send API, `POST {CPAAS_API_URL}/v1/messages`: a notification… */
export interface GenericSendBody {
  to: string;
  type: "rcs" | "sms";
  template_id: string;
  client_message_id: string;
  params: { transfer_id: string; sender_name: string; file_desc: string; link: string; expiry: string };
}

/** …or a reply in the conversation. */
export type GenericReplyBody = Omit<GenericSendBody, "params"> & { params: { text: string } };

/** The same API carrying a download's one-time code (template `ackline_otp`). */
export interface GenericOtpBody {
  to: string;
  type: "sms";
  template_id: typeof OTP_TEMPLATE_ID;
  client_message_id: string;
  params: { transfer_id: string; code: string };
}

/** The answer of the generic capability query, `GET {CPAAS_API_URL}/v1/capabilities/{phone}`. */
export interface GenericCapabilityAnswer {
  rcs: boolean;
}

/**
 * The generic CPaaS send API. 408, 429 and 5xx (and network errors) are transient; other 4xx are
 * permanent, 404 meaning the recipient is not RCS-capable. Its capability query (modelled on RBM's
 * `phones/{phone}/capabilities`) is asked before RCS; any answer but `{"rcs": <boolean>}` means
 * "cannot tell", so a CPaaS without one still works.
 */
export function createGenericCpaasAdapter(options: { apiUrl: string; token?: string; provider: string; fetch?: FetchLike; timeoutMs?: number }): DeliveryAdapter {
  const doFetch = options.fetch ?? fetch;
  const base = options.apiUrl.endsWith("/") ? options.apiUrl : `${options.apiUrl}/`;
  const endpoint = new URL("v1/messages", base).toString();
  const authorization: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const timeout = () => AbortSignal.timeout(options.timeoutMs ?? 10_000);
  return {
    provider: options.provider,
    async rcsCapable(phone) {
      try {
        const response = await doFetch(new URL(`v1/capabilities/${encodeURIComponent(phone)}`, base).toString(), { headers: authorization, signal: timeout() });
        if (!response.ok) return undefined;
        const answer = (await response.json()) as Partial<GenericCapabilityAnswer>;
        return typeof answer.rcs === "boolean" ? answer.rcs : undefined;
      } catch {
        return undefined;
      }
    },
    send: ({ message, transfer, link, linkExpiresAt }: SendRequest) =>
      post({
        to: transfer.recipientPhone ?? "",
        type: message.channel === "SMS" ? "sms" : "rcs",
        template_id: TRANSFER_TEMPLATE_ID,
        client_message_id: message.clientMessageId,
        params: {
          transfer_id: transfer.id,
          sender_name: transfer.senderName,
          file_desc: transfer.description ?? transfer.fileName,
          link,
          expiry: linkExpiresAt.toISOString(),
        },
      }),
    reply: ({ phone, text, clientRef }: ReplyRequest) => post({ to: phone, type: "rcs", template_id: REPLY_TEMPLATE_ID, client_message_id: clientRef, params: { text } }),
    sendOtp: ({ transfer, code, clientMessageId }: OtpRequest) =>
      post({ to: transfer.recipientPhone ?? "", type: "sms", template_id: OTP_TEMPLATE_ID, client_message_id: clientMessageId, params: { transfer_id: transfer.id, code } }),
  };

  /** One send, its answer classified. */
  async function post(body: GenericSendBody | GenericReplyBody | GenericOtpBody): Promise<SendOutcome> {
    let response: Response;
    try {
      response = await doFetch(endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", ...authorization },
        body: JSON.stringify(body),
        signal: timeout(),
      });
    } catch (error) {
      return { kind: "transient", error: `network error: ${(error as Error).message}` };
    }
    const text = await response.text();
    if (response.ok) {
      let id: unknown;
      try {
        const json = JSON.parse(text) as { id?: unknown; message_id?: unknown };
        id = json.id ?? json.message_id;
      } catch {
        id = undefined;
      }
      if (typeof id !== "string" || id === "") return { kind: "transient", error: "send API answered 2xx without a message id", code: response.status };
      return { kind: "accepted", providerMessageId: id, code: response.status };
    }
    const error = `send API answered ${response.status}: ${text.slice(0, 200)}`;
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      return { kind: "transient", error, code: response.status, retryAfterMs: retryAfterMs(response.headers.get("retry-after")) };
    }
    return { kind: "permanent", error, code: response.status, notCapable: response.status === 404 };
  }
}
