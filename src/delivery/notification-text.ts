import { formatExpiry } from "../domain/expiry-text.js";
import { postbackFor } from "../domain/postback.js";
import type { OtpRequest, SendRequest } from "./adapter.js";

export { formatExpiry };

/** Caps for the parts the partner chose, so the text stays well inside the providers' limits. */
const MAX_SENDER = 80;
const MAX_FILE_NAME = 120;

function clip(value: string, max: number): string {
  const flat = value.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * The plain-text notification the SMS/RCS adapters send: who sent what, the short link and when it
 * expires. Well under Vonage's 1000-character and Twilio's Body limits with any link Ackline signs.
 */
export function renderNotificationText({ transfer, link, linkExpiresAt }: SendRequest): string {
  return `${clip(transfer.senderName, MAX_SENDER)} sent you "${clip(transfer.fileName, MAX_FILE_NAME)}". Download: ${link} (expires ${formatExpiry(linkExpiresAt)})`;
}

/** A download's one-time code as an SMS: what it unlocks, and that it is short-lived. */
export function renderOtpText({ transfer, code }: OtpRequest): string {
  return `${code} is your code to download "${clip(transfer.fileName, MAX_FILE_NAME)}" from ${clip(transfer.senderName, MAX_SENDER)}. It works for 10 minutes.`;
}

/** The seed's RCS notification: a card saying who sent what until when, and its two buttons. */
export interface NotificationCard {
  title: string;
  description: string;
  /** Opens the download link; its postback is `download:<transfer id>`. */
  download: { text: "Download"; url: string; postback: string };
  /** Asks Ackline who sent it (answered in the conversation); its postback is `verify:<transfer id>`. */
  verify: { text: "Verify ID"; postback: string };
}

export function notificationCard({ transfer, link }: SendRequest): NotificationCard {
  return {
    title: `${clip(transfer.senderName, MAX_SENDER)} sent you a file`,
    description: `"${clip(transfer.fileName, MAX_FILE_NAME)}" (${transfer.fileSizeBytes} bytes). The link expires ${formatExpiry(transfer.expiresAt)}. Ref ${transfer.id}`,
    download: { text: "Download", url: link, postback: postbackFor("download", transfer.id) },
    verify: { text: "Verify ID", postback: postbackFor("verify", transfer.id) },
  };
}
