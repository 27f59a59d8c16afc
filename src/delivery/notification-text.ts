import type { SendRequest } from "./adapter.js";

/** Caps for the parts the partner chose, so the text stays well inside the providers' limits. */
const MAX_SENDER = 80;
const MAX_FILE_NAME = 120;

function clip(value: string, max: number): string {
  const flat = value.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** `2026-01-24 15:04 UTC`: the expiry as a recipient reads it (minute precision, always UTC). */
export function formatExpiry(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/**
 * The plain-text notification the SMS/RCS adapters send: who sent what, the short link and when it
 * expires. Well under Vonage's 1000-character and Twilio's Body limits with any link Ackline signs.
 */
export function renderNotificationText({ transfer, link, linkExpiresAt }: SendRequest): string {
  return `${clip(transfer.senderName, MAX_SENDER)} sent you "${clip(transfer.fileName, MAX_FILE_NAME)}". Download: ${link} (expires ${formatExpiry(linkExpiresAt)})`;
}
