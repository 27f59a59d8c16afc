import type { Channel, RevokeOutcome, TransferRecord } from "../domain/model.js";

export interface SendRequest {
  message: { id: string; clientMessageId: string; channel: Channel };
  transfer: TransferRecord;
  /** The recipient's short download link (`<PUBLIC_BASE_URL>/d/<code>`), bound to this message. */
  link: string;
  /** When the link stops working: its TTL after this send, never past the transfer's expiry. */
  linkExpiresAt: Date;
  /** Email only: the recipient's one-click unsubscribe link (RFC 8058). */
  unsubscribeUrl?: string;
}

/** A download's one-time code, sent on a second channel (SMS to the phone, or email). */
export interface OtpRequest {
  transfer: TransferRecord;
  code: string;
  /** Unique per code, so a provider that drops repeats drops only a true repeat. */
  clientMessageId: string;
}

export type SendOutcome =
  /** `sent`: the transport's acceptance already means SENT (SMTP); otherwise a receipt will say so. */
  | { kind: "accepted"; providerMessageId: string; sent?: boolean; code?: number }
  | { kind: "transient"; error: string; code?: number; retryAfterMs?: number }
  /** `notCapable`: the recipient cannot receive this channel (RCS 404) — a fallback trigger. */
  | { kind: "permanent"; error: string; code?: number; notCapable?: boolean };

/** A free-text answer in the recipient's RCS conversation (to a tapped Verify ID), outside any notification. */
export interface ReplyRequest {
  phone: string;
  text: string;
  /** The provider's correlation handle for it (Vonage `client_ref`, at most 40 characters). */
  clientRef: string;
}

/** An outbound provider: one send, classified. Retries and fallbacks are the dispatcher's. */
export interface DeliveryAdapter {
  provider: string;
  send(request: SendRequest): Promise<SendOutcome>;
  /** Sends a download's one-time code to the recipient, where this provider can. */
  sendOtp?(request: OtpRequest): Promise<SendOutcome>;
  /**
   * The provider's capability query, where it has one: whether this phone can receive RCS now;
   * undefined when the provider cannot tell (the send then decides).
   */
  rcsCapable?(phone: string): Promise<boolean | undefined>;
  /** Sends an RCS reply in the conversation, where the provider can (Twilio, Vonage). */
  reply?(request: ReplyRequest): Promise<SendOutcome>;
  /** Withdraws a message it accepted but has not delivered, where the provider can. */
  revoke?(message: { channel: Channel; providerMessageId: string }): Promise<RevokeOutcome>;
}
