import type { TransferRecord } from "../domain/model.js";
import type { Logger } from "../logger.js";
import { createMailTransport } from "./email.adapter.js";

/**
 * Emails a transfer's signed download receipt to its sender (`CreateTransferInput.senderEmail`):
 * the facts in words, the JWS in the text and as an attachment, and where its key is published.
 * Best effort: a failure is logged, the receipt stays on the transfer and in the DOWNLOADED event.
 */
export function createReceiptMailer(options: { smtpUrl?: string; from: string; jwksUrl: () => string; log: Logger }) {
  const transport = createMailTransport(options.smtpUrl);
  return async ({ to, transfer, jws }: { to: string; transfer: TransferRecord; jws: string }): Promise<void> => {
    const subject = `Downloaded: ${transfer.fileName} [${transfer.id}]`;
    const text = [
      `${transfer.fileName} (transfer ${transfer.id}) was downloaded by its recipient.`,
      "",
      "The signed receipt (a compact JWS, EdDSA) follows and is attached as receipt.jws.",
      `Verify it offline with any JOSE library against ${options.jwksUrl()}, or with the verifyReceipt query.`,
      "",
      jws,
    ].join("\n");
    try {
      await transport.sendMail({
        from: options.from,
        to,
        subject,
        text,
        headers: { "X-Ackline-Transfer-Id": transfer.id },
        attachments: [{ filename: "receipt.jws", content: jws, contentType: "application/jose" }],
      });
      if (!options.smtpUrl) options.log.info({ to, subject }, "download receipt (logged, no SMTP_URL)");
    } catch (error) {
      options.log.error({ err: error, transferId: transfer.id }, "emailing the download receipt failed");
    }
  };
}
