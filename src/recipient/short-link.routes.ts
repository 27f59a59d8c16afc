import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { OtpCheck, OtpService } from "../domain/otp.service.js";
import { REFUSAL_STATUS, type RecipientClient, type ResolvedLink, type ShortLinkService } from "../domain/short-link.service.js";
import { securityOf } from "../domain/transfer-security.js";
import type { SharedLimit } from "../rate-limits.js";
import { html, perAddressLimit } from "./html.js";
import { downloadThroughLink, type LinkDownloadOptions, refusalText } from "./link-download.js";
import { landingPage, otpPage, unavailablePage } from "./pages.js";

export interface ShortLinkRoutesOptions extends Omit<LinkDownloadOptions, "onRefused"> {
  /** Requests per client address (`RATE_LIMIT_RECIPIENT`). */
  limit: SharedLimit;
  links: ShortLinkService;
  otps: OtpService;
  /** The signing key a recipient can check the sender against: its kid, and where the JWKS is. */
  signer: () => { kid: string; jwksUrl: string };
}

type CodeRoute = { Params: { code: string }; Body: Record<string, string> | undefined };

/** Each outcome of a code's try: the status and what the page says. */
const OTP_ANSWERS: Record<Exclude<OtpCheck, "right">, { status: number; notice: string }> = {
  wrong: { status: 403, notice: "That code is not right. Check it and try again." },
  voided: { status: 429, notice: "Too many wrong codes: this code no longer works. Ask for a new one." },
  expired: { status: 403, notice: "That code has expired or was never sent. Ask for a new one." },
};

/**
 * The recipient's short link, `/d/<code>`: GET shows the file and records LINK_OPENED; the
 * Download button POSTs to it (downloading, or first sending a one-time code when the transfer
 * requires one); the code's form POSTs `code` to `/d/<code>/otp`. Refused links answer 403
 * (never valid) or 410 (no longer valid), audited, and never lead to the file.
 */
export const shortLinkRoutes: FastifyPluginAsync<ShortLinkRoutesOptions> = async (app, options) => {
  app.addHook("onRequest", perAddressLimit(options.limit));
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  const clientOf = (request: FastifyRequest): RecipientClient => ({ ip: request.ip, userAgent: request.headers["user-agent"] });
  const actionsOf = (code: string) => ({ resend: `/d/${encodeURIComponent(code)}`, verify: `/d/${encodeURIComponent(code)}/otp` });

  /** The link the code names, or the refusal page already sent. */
  async function resolved(request: FastifyRequest<CodeRoute>, reply: FastifyReply): Promise<ResolvedLink | undefined> {
    const resolution = await options.links.resolve(request.params.code, clientOf(request));
    if (resolution.ok) return resolution.link;
    await html(reply, REFUSAL_STATUS[resolution.refusal], unavailablePage(refusalText(resolution.refusal, resolution.senderName)));
    return undefined;
  }

  function download(request: FastifyRequest<CodeRoute>, reply: FastifyReply, link: ResolvedLink): Promise<FastifyReply> {
    const client = clientOf(request);
    const onRefused = (refusal: Parameters<ShortLinkService["refused"]>[2]) => options.links.refused(link.transfer, link.message.id, refusal, client);
    return downloadThroughLink(reply, { ...options, onRefused }, link.transfer, client, { messageId: link.message.id, channel: link.message.channel });
  }

  app.get<CodeRoute>("/d/:code", async (request, reply) => {
    const link = await resolved(request, reply);
    if (!link) return reply;
    await options.links.opened(link, clientOf(request));
    return html(reply, 200, landingPage(link.transfer, actionsOf(request.params.code).resend, { expiresAt: link.expiresAt, ...options.signer() }));
  });

  app.post<CodeRoute>("/d/:code", async (request, reply) => {
    const link = await resolved(request, reply);
    if (!link) return reply;
    if (!securityOf(link.transfer.securityPolicy).requireOtp) return download(request, reply, link);
    // No code is sent for a file that is not there yet: the download step says so.
    if (!(await options.files.available(link.transfer))) return download(request, reply, link);
    const delivery = await options.otps.request(link, clientOf(request));
    if (!delivery.sent && delivery.retryAfterSeconds) {
      const notice = `A code was sent moments ago: enter it, or ask for a new one in ${delivery.retryAfterSeconds} seconds.`;
      return html(reply.header("retry-after", String(delivery.retryAfterSeconds)), 429, otpPage(link.transfer, actionsOf(request.params.code), notice));
    }
    if (!delivery.sent) return html(reply.header("retry-after", "30"), 503, unavailablePage("We could not send your code just now: try again in a minute."));
    const by = delivery.channel === "SMS" ? "text message" : "email";
    return html(reply, 200, otpPage(link.transfer, actionsOf(request.params.code), `We sent a 6-digit code by ${by} to ${delivery.maskedTo}. Enter it to download; it works for 10 minutes.`));
  });

  app.post<CodeRoute>("/d/:code/otp", async (request, reply) => {
    const link = await resolved(request, reply);
    if (!link) return reply;
    const outcome = await options.otps.verify(link, String(request.body?.code ?? "").trim(), clientOf(request));
    if (outcome === "right") return download(request, reply, link);
    const answer = OTP_ANSWERS[outcome];
    return html(reply, answer.status, otpPage(link.transfer, actionsOf(request.params.code), answer.notice));
  });
};
