import type { TransferRecord } from "../domain/model.js";

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (character) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[character]!);

/** The one style block every page carries; the Content-Security-Policy allows it by its hash. */
export const PAGE_STYLE =
  "body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{font:inherit;padding:.6rem 1.4rem}pre{white-space:pre-wrap;overflow-wrap:anywhere}";

/** The HTML shell every page Ackline serves shares: no scripts, one small style block. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
</head><body>${body}</body></html>`;
}

const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(bytes < 10_000_000 ? 1 : 0)} MB`;

/**
 * The landing page of a download link. The download itself is a POST from its button, so link
 * previews and mail scanners that fetch the link never count as the recipient downloading.
 */
export function landingPage(transfer: TransferRecord, formAction: string): string {
  return page(
    transfer.fileName,
    `<h1>${escapeHtml(transfer.fileName)}</h1>
<p>${escapeHtml(transfer.senderName)} sent you a file (${megabytes(transfer.fileSizeBytes)}).</p>
${transfer.description ? `<p>${escapeHtml(transfer.description)}</p>` : ""}
<p>Available until ${escapeHtml(transfer.expiresAt.toISOString())}.</p>
<form method="post" action="${escapeHtml(formAction)}"><button type="submit">Download</button></form>`,
  );
}

export function recordedPage(transfer: TransferRecord): string {
  return page(transfer.fileName, `<h1>${escapeHtml(transfer.fileName)}</h1><p>Your download is recorded; ${escapeHtml(transfer.senderName)} can see it.</p>`);
}

/** The unsubscribe link's page: the change itself is the POST of its button (or a mail client's one-click POST). */
export function unsubscribePage(formAction: string): string {
  return page(
    "Unsubscribe",
    `<h1>Stop transfer notification emails?</h1>
<p>This address will get no more file-transfer notifications by email from this sender's organisation.</p>
<form method="post" action="${escapeHtml(formAction)}"><button type="submit">Unsubscribe</button></form>`,
  );
}

export function unsubscribedPage(email: string): string {
  return page("Unsubscribed", `<h1>Unsubscribed</h1><p>${escapeHtml(email)} will get no more transfer notification emails from this sender's organisation.</p>`);
}

export function unavailablePage(reason: string): string {
  return page("Not available", `<h1>This file is not available</h1><p>${escapeHtml(reason)}</p>`);
}
