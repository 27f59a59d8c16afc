import nodemailer from "nodemailer";
import { emailMessageId } from "../domain/email-message-id.js";
import type { Logger } from "../logger.js";
import type { DeliveryAdapter, SendOutcome, SendRequest } from "./adapter.js";

/** SMTP permanent failures are 5xx replies; anything else (connection, 4xx) is worth a retry. */
function isPermanent(error: unknown): boolean {
  const code = (error as { responseCode?: number }).responseCode;
  return typeof code === "number" && code >= 500;
}

/**
 * The acceptances of the SMTP relays whose event webhooks name the message by the relay's own id:
 * SendGrid's `250 Ok: queued as <X-Message-Id>` (the part of `sg_message_id` before its first dot)
 * and SES's `250 Ok <message id>` (`mail.messageId`). Only these shapes are taken: a provider id
 * must be unique across Ackline, and other servers' queue ids (Postfix's) are reused.
 */
const RELAY_ACCEPTANCES = [
  /^250 Ok: queued as ([A-Za-z0-9_-]{22})$/i,
  /^250 Ok ([0-9a-f]{16}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-\d{6})$/i,
];

/** The relay's id for the message it just accepted, when its acceptance names one its webhooks report. */
export function relayMessageId(response: string): string | undefined {
  const line = response.trim();
  for (const acceptance of RELAY_ACCEPTANCES) {
    const id = acceptance.exec(line)?.[1];
    if (id) return id;
  }
  return undefined;
}

function render({ transfer, link, linkExpiresAt, message, unsubscribeUrl }: SendRequest) {
  const lines = [
    `${transfer.senderName} sent you ${transfer.fileName} (${transfer.fileSizeBytes} bytes).`,
    transfer.description ? `\n${transfer.description}` : "",
    `\nDownload: ${link}`,
    `This link expires at ${linkExpiresAt.toISOString()}.`,
    "\n-- Audit trail --",
    `Transfer: ${transfer.id}`,
    `Message: ${message.id}`,
    `Created: ${transfer.createdAt.toISOString()}`,
    unsubscribeUrl ? `\nStop these notification emails: ${unsubscribeUrl}` : "",
  ];
  return { subject: `${transfer.senderName} sent you ${transfer.fileName} [${transfer.id}]`, text: lines.filter(Boolean).join("\n") };
}

/** Ackline's outgoing mail: SMTP when configured, otherwise a transport that only renders it (the caller logs). */
export function createMailTransport(smtpUrl: string | undefined) {
  return smtpUrl ? nodemailer.createTransport(smtpUrl) : nodemailer.createTransport({ jsonTransport: true });
}

/** The email copy (the audit trail): SMTP when configured, otherwise a transport that logs. */
export function createEmailAdapter(options: { smtpUrl?: string; from: string; log: Logger }): DeliveryAdapter {
  const transport = createMailTransport(options.smtpUrl);
  async function deliver(mail: { to: string; subject: string; text: string; clientMessageId: string; headers: Record<string, string> }): Promise<SendOutcome> {
    try {
      const info = await transport.sendMail({ from: options.from, to: mail.to, subject: mail.subject, text: mail.text, messageId: emailMessageId(mail.clientMessageId), headers: mail.headers });
      if (!options.smtpUrl) options.log.info({ to: mail.to, subject: mail.subject }, "email (logged, no SMTP_URL)");
      // Mailgun, and any other server, reports the Message-ID Ackline set.
      return { kind: "accepted", providerMessageId: relayMessageId(String(info.response ?? "")) ?? info.messageId, sent: true };
    } catch (error) {
      const message = `SMTP: ${(error as Error).message}`;
      return isPermanent(error) ? { kind: "permanent", error: message } : { kind: "transient", error: message };
    }
  }
  return {
    provider: options.smtpUrl ? "smtp" : "email-log",
    send(request) {
      return deliver({
        ...render(request),
        to: request.transfer.recipientEmail ?? "",
        clientMessageId: request.message.clientMessageId,
        headers: {
          "X-Ackline-Transfer-Id": request.transfer.id,
          // RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click` to the link.
          ...(request.unsubscribeUrl && { "List-Unsubscribe": `<${request.unsubscribeUrl}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" }),
        },
      });
    },
    sendOtp({ transfer, code, clientMessageId }) {
      if (!options.smtpUrl) options.log.info({ to: transfer.recipientEmail, transferId: transfer.id, code }, "download code (logged, no SMTP_URL)");
      return deliver({
        to: transfer.recipientEmail ?? "",
        subject: `Your download code for ${transfer.fileName}`,
        text: `Your code to download ${transfer.fileName} from ${transfer.senderName} is ${code}.\nIt works for 10 minutes. If you did not ask for it, ignore this email.\n\nTransfer: ${transfer.id}`,
        clientMessageId,
        headers: { "X-Ackline-Transfer-Id": transfer.id },
      });
    },
  };
}
