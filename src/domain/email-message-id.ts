/**
 * The Message-ID header Ackline gives each email copy names the message, so an email provider
 * that echoes the header in its events (Mailgun, SES's `commonHeaders`, SendGrid's `smtp-id`)
 * leads back to the message even when the provider's own id was never recorded.
 */
export function emailMessageId(clientMessageId: string): string {
  return `<${clientMessageId}@ackline>`;
}

/** Ackline's message id in an echoed Message-ID (with or without its angle brackets); undefined if it is not one of Ackline's. */
export function messageIdFromEmailMessageId(header: string | undefined): string | undefined {
  return /^<?(msg_[A-Za-z0-9_-]+)@ackline>?$/.exec(header?.trim() ?? "")?.[1];
}
