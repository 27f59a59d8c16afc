import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { type GenericOtpBody, type GenericSendBody, OTP_TEMPLATE_ID } from "../../src/delivery/generic-cpaas.adapter.js";
import { listenOnLoopback } from "./listen.js";

/** The same API carries one-time codes: told apart by their template. */
const isOtp = (body: GenericSendBody | GenericOtpBody): body is GenericOtpBody => body.template_id === OTP_TEMPLATE_ID;

export interface FakeSend {
  body: GenericSendBody;
  authorization: string | undefined;
  /** The provider id it answered with (absent when it answered an error). */
  providerMessageId?: string;
  status: number;
  /** When it arrived (ms since the epoch). */
  at: number;
}

export type FakeReply = { status: number; body?: unknown; headers?: Record<string, string> };

/**
 * A local HTTP server that speaks the generic CPaaS send API: it records each request, answers
 * with the provider's id, and drops a repeated client_message_id like the real one. `reply`
 * overrides the answer per request (errors, 429 with Retry-After …).
 */
export async function startFakeCpaas(
  reply?: (body: GenericSendBody, attempt: number) => FakeReply | undefined,
  /** How long to hold each accepted send's answer: fixed, or per send. */
  options: { delayMs?: number | ((body: GenericSendBody) => number) } = {},
) {
  const sends: FakeSend[] = [];
  const accepted = new Map<string, string>();
  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      if (request.method !== "POST" || request.url !== "/v1/messages") {
        response.writeHead(404).end();
        return;
      }
      const body = JSON.parse(await readBody(request)) as GenericSendBody;
      const attempt = sends.filter((send) => send.body.client_message_id === body.client_message_id).length + 1;
      const override = reply?.(body, attempt);
      if (override) {
        sends.push({ body, authorization: request.headers.authorization, status: override.status, at: Date.now() });
        response.writeHead(override.status, { "content-type": "application/json", ...override.headers }).end(JSON.stringify(override.body ?? {}));
        return;
      }
      const id = accepted.get(body.client_message_id) ?? `fake_${randomBytes(8).toString("hex")}`;
      accepted.set(body.client_message_id, id);
      sends.push({ body, authorization: request.headers.authorization, providerMessageId: id, status: 202, at: Date.now() });
      // Accepted before answering: a sender that dies meanwhile never hears of it, as with a real provider.
      const delayMs = typeof options.delayMs === "function" ? options.delayMs(body) : options.delayMs;
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      response.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ id }));
    })();
  });
  const listening = await listenOnLoopback(server);
  return {
    url: listening.url,
    sends,
    /** Resolves once a send for this transfer was accepted. */
    async waitForSend(transferId: string, timeoutMs = 10_000): Promise<FakeSend> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const send = sends.find((candidate) => candidate.body.params.transfer_id === transferId && candidate.providerMessageId && !isOtp(candidate.body));
        if (send) return send;
        if (Date.now() > deadline) throw new Error(`no accepted send for ${transferId} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    /** The one-time codes sent for this transfer (template `ackline_otp`), oldest first. */
    otpsFor: (transferId: string): GenericOtpBody[] =>
      sends.flatMap(({ body }) => (isOtp(body) && body.params.transfer_id === transferId ? [body] : [])),
    close: listening.close,
  };
}
