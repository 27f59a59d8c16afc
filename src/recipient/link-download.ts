import type { FastifyReply } from "fastify";
import type { DownloadService } from "../domain/download.service.js";
import { DomainError } from "../domain/errors.js";
import type { Channel, TransferRecord } from "../domain/model.js";
import type { LinkRefusal, RecipientClient } from "../domain/short-link.service.js";
import type { FileLocator } from "../storage/file-location.js";
import { html } from "./html.js";
import { unavailablePage } from "./pages.js";

/** What the recipient reads when a link is refused. */
export function refusalText(refusal: LinkRefusal, senderName?: string): string {
  switch (refusal) {
    case "unknown":
    case "tampered":
      return "The link is not valid.";
    case "expired":
      return "The link has expired.";
    case "revoked":
      return `${senderName ?? "The sender"} has withdrawn this file.`;
    case "exhausted":
      return "This link has been used as many times as it allows.";
  }
}

export interface LinkDownloadOptions {
  downloads: DownloadService;
  files: FileLocator;
  /** Audits a download refused under the transfer's lock (used up, revoked or expired meanwhile). */
  onRefused?: (refusal: LinkRefusal) => Promise<void>;
}

/**
 * The download itself, for both kinds of link: only a file that is there is counted; the download
 * is recorded (atomically against `maxDownloads`), then the recipient is sent on to the file (303).
 */
export async function downloadThroughLink(
  reply: FastifyReply,
  options: LinkDownloadOptions,
  transfer: TransferRecord,
  client: RecipientClient,
  link?: { messageId: string; channel: Channel },
): Promise<FastifyReply> {
  if (!(await options.files.available(transfer))) {
    return html(reply, 404, unavailablePage(`${transfer.senderName} has not uploaded the file yet: try again later.`));
  }
  try {
    await options.downloads.recordLinkDownload(transfer.id, client, new Date(), link);
  } catch (error) {
    if (!(error instanceof DomainError && error.code === "CONFLICT")) throw error;
    const refusal = (error.details?.reason as LinkRefusal | undefined) ?? "expired";
    await options.onRefused?.(refusal);
    return html(reply, 410, unavailablePage(refusalText(refusal, transfer.senderName)));
  }
  return reply.redirect(await options.files.urlFor(transfer), 303);
}
