import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { listenOnLoopback } from "./listen.js";

export interface TwilioFakeRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  /** The parsed form (empty when the body was not form-encoded). */
  form: Record<string, string>;
  rawBody: string;
  /** What the fake answered. */
  status: number;
  sid?: string;
}

export type TwilioFakeReply = { status: number; body?: unknown; headers?: Record<string, string> };

const E164 = /^\+[1-9]\d{6,14}$/;

function isJsonObject(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

function twilioError(status: number, code: number, message: string): TwilioFakeReply {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

/**
 * A local server speaking Twilio's Create Message API as documented: `POST
 * /2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic (Account SID : Auth Token), a form-encoded
 * body, and Twilio's error JSON `{ code, message, more_info, status }` — 20003 bad credentials, 21604
 * no `To` (also what Twilio answers to a body that is not form-encoded), 21211 invalid `To`, 21603 no
 * `From`/`MessagingServiceSid`, 21602 neither `Body` nor `ContentSid`, 21655 a malformed `ContentSid`, 21656
 * `ContentVariables` that are not a JSON object. Success is 201 with a Message resource whose `sid`
 * starts with `SM`. `reply` overrides the answer to a valid request (errors, 429 with Retry-After …).
 */
export async function startFakeTwilio(options: {
  accountSid: string;
  authToken: string;
  reply?: (form: Record<string, string>, attempt: number) => TwilioFakeReply | undefined;
}) {
  const requests: TwilioFakeRequest[] = [];
  const messagesPath = `/2010-04-01/Accounts/${options.accountSid}/Messages.json`;
  const expectedAuth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString("base64")}`;

  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };

  function answer(request: IncomingMessage, rawBody: string): { reply: TwilioFakeReply; form: Record<string, string>; sid?: string } {
    const contentType = request.headers["content-type"] ?? "";
    const isForm = contentType.split(";")[0]!.trim().toLowerCase() === "application/x-www-form-urlencoded";
    const form = isForm ? Object.fromEntries(new URLSearchParams(rawBody)) : {};
    if (request.url !== messagesPath) return { reply: twilioError(404, 20404, `The requested resource ${request.url} was not found`), form };
    if (request.method !== "POST") return { reply: twilioError(405, 20004, "Method not allowed"), form };
    if (request.headers.authorization !== expectedAuth) return { reply: twilioError(401, 20003, "Authenticate"), form };
    if (!form.To) return { reply: twilioError(400, 21604, "A 'To' phone number is required."), form };
    const to = form.To.startsWith("rcs:") ? form.To.slice(4) : form.To;
    if (!E164.test(to)) return { reply: twilioError(400, 21211, `Invalid 'To' Phone Number: ${form.To}`), form };
    if (!form.From && !form.MessagingServiceSid) return { reply: twilioError(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message."), form };
    if (!form.Body && !form.ContentSid) return { reply: twilioError(400, 21602, "Message body is required."), form };
    if (form.ContentSid && !/^HX[0-9a-f]{32}$/i.test(form.ContentSid)) return { reply: twilioError(400, 21655, "The ContentSid is Invalid."), form };
    if (form.ContentVariables !== undefined && !isJsonObject(form.ContentVariables)) return { reply: twilioError(400, 21656, "The ContentVariables Parameter is invalid."), form };
    const attempt = requests.filter((r) => r.form.Body === form.Body && r.form.To === form.To).length + 1;
    const override = options.reply?.(form, attempt);
    if (override) return { reply: override, form };
    const sid = `SM${randomBytes(16).toString("hex")}`;
    return {
      sid,
      form,
      reply: {
        status: 201,
        body: {
          sid,
          account_sid: options.accountSid,
          to: form.To,
          from: form.From ?? null,
          messaging_service_sid: form.MessagingServiceSid ?? null,
          body: form.Body,
          status: form.MessagingServiceSid ? "accepted" : "queued",
          direction: "outbound-api",
          api_version: "2010-04-01",
          error_code: null,
          error_message: null,
          uri: `/2010-04-01/Accounts/${options.accountSid}/Messages/${sid}.json`,
        },
      },
    };
  }

  const server: Server = createServer((request, response) => {
    void (async () => {
      const rawBody = await readBody(request);
      const { reply, form, sid } = answer(request, rawBody);
      requests.push({
        method: request.method ?? "",
        path: request.url ?? "",
        authorization: request.headers.authorization,
        contentType: request.headers["content-type"],
        form,
        rawBody,
        status: reply.status,
        ...(sid ? { sid } : {}),
      });
      const body = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body ?? {});
      response.writeHead(reply.status, { "content-type": typeof reply.body === "string" ? "text/html" : "application/json", ...reply.headers }).end(body);
    })();
  });
  const listening = await listenOnLoopback(server);
  return {
    url: listening.url,
    requests,
    close: listening.close,
  };
}
