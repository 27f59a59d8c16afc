import { randomUUID, type KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { jwtVerify, type JWTPayload } from "jose";
import { listenOnLoopback } from "./listen.js";

export interface VonageFakeRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** How the request authenticated, when it did. */
  auth?: { kind: "basic"; apiKey: string } | { kind: "jwt"; claims: JWTPayload };
  contentType: string | undefined;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: Record<string, unknown> | undefined;
  status: number;
  messageUuid?: string;
}

export type VonageFakeReply = { status: number; body?: unknown; headers?: Record<string, string> };

function problem(status: number, type: string, title: string, detail: string, extra: Record<string, unknown> = {}): VonageFakeReply {
  return { status, body: { type, title, detail, instance: randomUUID(), ...extra } };
}

const INVALID_PARAMS = "https://developer.vonage.com/api-errors/messages#1020";
const UNAUTHORIZED = "https://developer.vonage.com/api-errors#unauthorized";

/**
 * A local server speaking the Vonage Messages API v1 send as documented: `POST /v1/messages`, either
 * HTTP Basic (`api_key:api_secret`) or a Bearer application JWT (RS256, `application_id` claim, checked
 * against the application's public key) — never both, a JSON body `{ message_type: "text", text, to,
 * from, channel, client_ref? }` with `to` in E.164 without `+`, `text` up to 1000 characters, or (RCS) `{
 * message_type: "custom", custom: {…} }` passed through to RBM. Success
 * is 202 `{ message_uuid }`; errors are RFC 7807 problem JSON (`application/problem+json`). `reply`
 * overrides the answer to a valid request. An accepted RCS message can be revoked with
 * `PATCH /v1/messages/{uuid}` `{"status": "revoked"}`.
 */
export async function startFakeVonage(options: {
  apiKey?: string;
  apiSecret?: string;
  applicationId?: string;
  publicKey?: KeyObject;
  reply?: (body: Record<string, unknown>, attempt: number) => VonageFakeReply | undefined;
}) {
  const requests: VonageFakeRequest[] = [];

  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };

  async function authenticate(header: string | undefined): Promise<VonageFakeRequest["auth"]> {
    if (!header) return undefined;
    const [scheme, value = ""] = header.split(" ", 2);
    if (scheme === "Basic" && options.apiKey) {
      const [key, secret] = Buffer.from(value, "base64").toString("utf8").split(":", 2);
      return key === options.apiKey && secret === options.apiSecret ? { kind: "basic", apiKey: key } : undefined;
    }
    if (scheme === "Bearer" && options.publicKey) {
      try {
        const { payload } = await jwtVerify(value, options.publicKey, { algorithms: ["RS256"] });
        const valid = payload.application_id === options.applicationId && typeof payload.jti === "string" && typeof payload.iat === "number";
        return valid ? { kind: "jwt", claims: payload } : undefined;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  function validate(body: Record<string, unknown>): { name: string; reason: string }[] {
    const invalid: { name: string; reason: string }[] = [];
    if (body.message_type === "custom") {
      // Passed through to Google RBM unvalidated: only an RCS message may carry it, and it must be an object.
      if (body.channel !== "rcs") invalid.push({ name: "message_type", reason: "custom is an RCS message type" });
      if (!body.custom || typeof body.custom !== "object" || Array.isArray(body.custom)) invalid.push({ name: "custom", reason: "must be an object" });
    } else if (body.message_type !== "text") invalid.push({ name: "message_type", reason: "must be text or custom" });
    else if (typeof body.text !== "string" || body.text.length < 1 || body.text.length > 1000) invalid.push({ name: "text", reason: "1 to 1000 characters" });
    if (typeof body.to !== "string" || !/^\d{7,15}$/.test(body.to)) invalid.push({ name: "to", reason: "E.164 without a leading + or 00" });
    if (typeof body.from !== "string" || body.from === "") invalid.push({ name: "from", reason: "required" });
    if (body.channel !== "sms" && body.channel !== "rcs") invalid.push({ name: "channel", reason: "must be sms or rcs" });
    if (body.client_ref !== undefined && (typeof body.client_ref !== "string" || body.client_ref.length > 40)) invalid.push({ name: "client_ref", reason: "up to 40 characters" });
    if (body.webhook_url !== undefined && (typeof body.webhook_url !== "string" || !URL.canParse(body.webhook_url))) invalid.push({ name: "webhook_url", reason: "must be a URL" });
    return invalid;
  }

  /** `PATCH /v1/messages/{uuid}` `{"status": "revoked"}`: an RCS message this fake accepted can be revoked. */
  async function revocation(request: IncomingMessage, record: VonageFakeRequest, uuid: string): Promise<{ reply: VonageFakeReply }> {
    record.auth = await authenticate(request.headers.authorization);
    if (!record.auth) return { reply: problem(401, UNAUTHORIZED, "Unauthorized", "You did not provide correct credentials.") };
    if (record.body?.status !== "revoked") return { reply: problem(422, INVALID_PARAMS, "Invalid params", "status must be revoked") };
    const sent = requests.find((candidate) => candidate.messageUuid === uuid);
    if (!sent) return { reply: problem(404, "https://developer.vonage.com/api-errors#not-found", "Not Found", `message ${uuid} not found`) };
    if (sent.body?.channel !== "rcs") return { reply: problem(422, INVALID_PARAMS, "Invalid params", "only RCS messages can be revoked") };
    return { reply: { status: 200, body: {} } };
  }

  async function answer(request: IncomingMessage, record: VonageFakeRequest): Promise<{ reply: VonageFakeReply; messageUuid?: string }> {
    const revoked = /^\/v1\/messages\/([^/]+)$/.exec(request.url ?? "");
    if (revoked && request.method === "PATCH") return revocation(request, record, decodeURIComponent(revoked[1]!));
    if (request.url !== "/v1/messages") return { reply: problem(404, "https://developer.vonage.com/api-errors#not-found", "Not Found", "The requested resource does not exist") };
    if (request.method !== "POST") return { reply: problem(405, "https://developer.vonage.com/api-errors#method-not-allowed", "Method Not Allowed", "Use POST") };
    record.auth = await authenticate(request.headers.authorization);
    if (!record.auth) return { reply: problem(401, UNAUTHORIZED, "Unauthorized", "You did not provide correct credentials.") };
    if ((request.headers["content-type"] ?? "").split(";")[0]!.trim() !== "application/json" || !record.body) {
      return { reply: problem(422, INVALID_PARAMS, "Invalid params", "The request body is not JSON.") };
    }
    const invalid = validate(record.body);
    if (invalid.length > 0) return { reply: problem(422, INVALID_PARAMS, "Invalid params", "The value of one or more parameters is invalid.", { invalid_parameters: invalid }) };
    const attempt = requests.filter((r) => r.body?.client_ref !== undefined && r.body.client_ref === record.body?.client_ref).length + 1;
    const override = options.reply?.(record.body, attempt);
    if (override) return { reply: override };
    const messageUuid = randomUUID();
    return { reply: { status: 202, body: { message_uuid: messageUuid } }, messageUuid };
  }

  const server: Server = createServer((request, response) => {
    void (async () => {
      const rawBody = await readBody(request);
      let body: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(rawBody);
        body = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
      } catch {
        body = undefined;
      }
      const record: VonageFakeRequest = {
        method: request.method ?? "",
        path: request.url ?? "",
        authorization: request.headers.authorization,
        contentType: request.headers["content-type"],
        body,
        status: 0,
      };
      const { reply, messageUuid } = await answer(request, record);
      record.status = reply.status;
      if (messageUuid) record.messageUuid = messageUuid;
      requests.push(record);
      const isText = typeof reply.body === "string";
      const contentType = isText ? "text/html" : reply.status >= 400 ? "application/problem+json" : "application/json";
      response.writeHead(reply.status, { "content-type": contentType, ...reply.headers }).end(isText ? (reply.body as string) : JSON.stringify(reply.body ?? {}));
    })();
  });
  const listening = await listenOnLoopback(server);
  return {
    url: listening.url,
    requests,
    close: listening.close,
  };
}
