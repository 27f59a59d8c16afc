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
export function landingPage(transfer: TransferRecord, formAction: string, link?: ShortLinkProof): string {
  return page(
    transfer.fileName,
    `<h1>${escapeHtml(transfer.fileName)}</h1>
<p>${escapeHtml(transfer.senderName)} sent you a file (${megabytes(transfer.fileSizeBytes)}).</p>
${transfer.description ? `<p>${escapeHtml(transfer.description)}</p>` : ""}
<p>Available until ${escapeHtml((link?.expiresAt ?? transfer.expiresAt).toISOString())}.</p>
<form method="post" action="${escapeHtml(formAction)}"><button type="submit">Download</button></form>
${link ? verifySenderLine(link) : ""}`,
  );
}

/** What a short link's page says about itself: until when it works, and the key that vouches for the sender. */
export interface ShortLinkProof {
  expiresAt: Date;
  /** The `kid` of the key Ackline signs with now, published at `jwksUrl`. */
  kid: string;
  jwksUrl: string;
}

function verifySenderLine(link: ShortLinkProof): string {
  return `<p><small>Verify this sender: Ackline signs this sender's links and receipts with key <code>${escapeHtml(link.kid)}</code>, published at <a href="${escapeHtml(link.jwksUrl)}">${escapeHtml(link.jwksUrl)}</a>.</small></p>`;
}

/** The second step when a download needs a one-time code: its form, and a way to ask for a new code. */
export function otpPage(transfer: TransferRecord, actions: { verify: string; resend: string }, notice: string): string {
  return page(
    transfer.fileName,
    `<h1>${escapeHtml(transfer.fileName)}</h1>
<p>${escapeHtml(notice)}</p>
<form method="post" action="${escapeHtml(actions.verify)}"><label>Code <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required></label> <button type="submit">Download</button></form>
<form method="post" action="${escapeHtml(actions.resend)}"><button type="submit">Send a new code</button></form>`,
  );
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
