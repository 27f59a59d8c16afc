import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { SigningKeys } from "../auth/signing-keys.js";
import type { TransferRecord } from "../domain/model.js";
import { securityOf } from "../domain/transfer-security.js";
import type { SharedLimit } from "../rate-limits.js";
import { html, perAddressLimit, type LinkRequest, verifiedLinkId } from "./html.js";
import { downloadThroughLink, type LinkDownloadOptions } from "./link-download.js";
import { landingPage, unavailablePage } from "./pages.js";

export interface DownloadRoutesOptions extends LinkDownloadOptions {
  /** Requests per client address (`RATE_LIMIT_RECIPIENT`). */
  limit: SharedLimit;
  signingKeys: SigningKeys;
}

type LinkRoute = { Params: { id: string }; Querystring: { tok?: string } };

/**
 * The links notifications carried before short links: `/t/<transfer id>?tok=<signed link token>`,
 * working until they expire. GET shows the file and a Download button; its POST records the
 * download (DOWNLOADED) and sends the recipient on to the file, as a short link would. A revoked
 * or expired transfer is 410, a bad link 403; a transfer that requires a one-time code is
 * downloaded through its short link only (403 here).
 */
export const downloadRoutes: FastifyPluginAsync<DownloadRoutesOptions> = async (app, options) => {
  // The button's form has no fields of its own: the token travels in the query string.
  app.addHook("onRequest", perAddressLimit(options.limit));
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, _body, done) => done(null, undefined));

  /** The transfer the link names, or the page that says why there is none. */
  async function linkedTransfer(request: LinkRequest, reply: FastifyReply): Promise<TransferRecord | undefined> {
    const transferId = await verifiedLinkId(options.signingKeys, request, "download", reply);
    if (!transferId) return undefined;
    const transfer = await options.downloads.forLink(transferId);
    if (!transfer) {
      await html(reply, 403, unavailablePage("The link is not valid."));
      return undefined;
    }
    if (transfer.revokedAt) {
      await html(reply, 410, unavailablePage(`${transfer.senderName} has withdrawn this file.`));
      return undefined;
    }
    if (securityOf(transfer.securityPolicy).requireOtp) {
      await html(reply, 403, unavailablePage("This file needs a one-time code: open the link in your latest notification."));
      return undefined;
    }
    return transfer;
  }

  app.get<LinkRoute>("/t/:id", async (request, reply) => {
    const transfer = await linkedTransfer(request, reply);
    if (!transfer) return reply;
    return html(reply, 200, landingPage(transfer, `/t/${encodeURIComponent(transfer.id)}?tok=${encodeURIComponent(request.query.tok ?? "")}`));
  });

  app.post<LinkRoute>("/t/:id", async (request, reply) => {
    const transfer = await linkedTransfer(request, reply);
    if (!transfer) return reply;
    return downloadThroughLink(reply, options, transfer, { ip: request.ip, userAgent: request.headers["user-agent"] });
  });
};
