import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { SigningKeys } from "../auth/signing-keys.js";
import { DomainError } from "../domain/errors.js";
import type { TransferRecord } from "../domain/model.js";
import type { DownloadService } from "../domain/download.service.js";
import type { SharedLimit } from "../rate-limits.js";
import { html, perAddressLimit, type LinkRequest, verifiedLinkId } from "./html.js";
import { landingPage, recordedPage, unavailablePage } from "./pages.js";

export interface DownloadRoutesOptions {
  /** Requests per client address (`RATE_LIMIT_RECIPIENT`). */
  limit: SharedLimit;
  signingKeys: SigningKeys;
  downloads: DownloadService;
  /** Where the file is served after the download is recorded; `{transferId}` is replaced. */
  downloadUrlTemplate?: string;
}

type LinkRoute = { Params: { id: string }; Querystring: { tok?: string } };

/**
 * The recipient's side of a notification: `/t/<transfer id>?tok=<signed link token>`. GET shows
 * the file and a Download button; its POST records the download (DOWNLOADED) and sends the
 * recipient on to the file. A revoked or expired transfer is 410, a bad link 403.
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
    try {
      await options.downloads.recordLinkDownload(transfer.id, { ip: request.ip, userAgent: request.headers["user-agent"] });
    } catch (error) {
      if (error instanceof DomainError && error.code === "CONFLICT") return html(reply, 410, unavailablePage(error.message));
      throw error;
    }
    if (options.downloadUrlTemplate) return reply.redirect(options.downloadUrlTemplate.replaceAll("{transferId}", encodeURIComponent(transfer.id)), 303);
    return html(reply, 200, recordedPage(transfer));
  });
};
