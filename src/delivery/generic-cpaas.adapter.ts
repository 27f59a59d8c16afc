import type { DeliveryAdapter, SendOutcome, SendRequest } from "./adapter.js";
import { retryAfterMs } from "./http-outcome.js";

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export const TRANSFER_TEMPLATE_ID = "transfer_notification_v2";

/** The body of the seed's generic send API, `POST {CPAAS_API_URL}/v1/messages`. */
export interface GenericSendBody {
  to: string;
  type: "rcs" | "sms";
  template_id: string;
  client_message_id: string;
  params: { transfer_id: string; sender_name: string; file_desc: string; link: string; expiry: string };
}

/**
 * The generic CPaaS send API. 408, 429 and 5xx (and network errors) are transient; other 4xx are
 * permanent, 404 meaning the recipient is not RCS-capable.
 */
export function createGenericCpaasAdapter(options: { apiUrl: string; token?: string; provider: string; fetch?: FetchLike; timeoutMs?: number }): DeliveryAdapter {
  const doFetch = options.fetch ?? fetch;
  const endpoint = new URL("v1/messages", options.apiUrl.endsWith("/") ? options.apiUrl : `${options.apiUrl}/`).toString();
  return {
    provider: options.provider,
    async send({ message, transfer, link }: SendRequest): Promise<SendOutcome> {
      const body: GenericSendBody = {
        to: transfer.recipientPhone ?? "",
        type: message.channel === "SMS" ? "sms" : "rcs",
        template_id: TRANSFER_TEMPLATE_ID,
        client_message_id: message.clientMessageId,
        params: {
          transfer_id: transfer.id,
          sender_name: transfer.senderName,
          file_desc: transfer.description ?? transfer.fileName,
          link,
          expiry: transfer.expiresAt.toISOString(),
        },
      };
      let response: Response;
      try {
        response = await doFetch(endpoint, {
          method: "POST",
          headers: { "content-type": "application/json", ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
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
    },
  };
}
