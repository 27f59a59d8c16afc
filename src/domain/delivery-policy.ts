import { z } from "zod";
import type { Channel, MessageStatus } from "./model.js";

export const EMAIL_COPY_MODES = ["ALWAYS", "ON_FAILURE", "NEVER"] as const;
export type EmailCopyMode = (typeof EMAIL_COPY_MODES)[number];

/**
 * How a tenant's notifications go out: RCS first to a phone, SMS when RCS fails or is not
 * delivered in time, and an email copy always, only as the last fallback, or never. A transfer
 * keeps the policy it was created under.
 */
export interface DeliveryPolicy {
  /** An RCS message that fails, or is not delivered in time, falls back to SMS. */
  fallbackToSms: boolean;
  /** A message not delivered within this many minutes falls back; null: only a failure does. */
  fallbackAfterMinutes: number | null;
  /** ALWAYS: an email copy beside the phone message (the audit trail); ON_FAILURE: email is the last fallback. */
  emailCopy: EmailCopyMode;
  /** RCS goes out this many minutes after creation ("email now, RCS later"). */
  rcsDelayMinutes: number;
  /** Ask the provider whether the phone can receive RCS before sending it, where it can answer. */
  checkRcsCapability: boolean;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  fallbackToSms: true,
  fallbackAfterMinutes: 15,
  emailCopy: "ALWAYS",
  rcsDelayMinutes: 0,
  checkRcsCapability: true,
};

const MINUTES_PER_WEEK = 7 * 24 * 60;

export const deliveryPolicySchema = z.object({
  fallbackToSms: z.boolean(),
  fallbackAfterMinutes: z.number().int().min(1, "fallbackAfterMinutes must be at least 1").max(MINUTES_PER_WEEK).nullable(),
  emailCopy: z.enum(EMAIL_COPY_MODES),
  rcsDelayMinutes: z.number().int().min(0, "rcsDelayMinutes must not be negative").max(MINUTES_PER_WEEK),
  checkRcsCapability: z.boolean(),
});

/** A stored policy, completed with today's defaults for fields added since it was stored. */
export function policyOf(stored: Partial<DeliveryPolicy> | null | undefined): DeliveryPolicy {
  return { ...DEFAULT_DELIVERY_POLICY, ...stored };
}

interface Recipient {
  recipientPhone: string | null;
  recipientEmail: string | null;
}

/** A message to queue: on which channel, from when, and the reason its QUEUED event records. */
export interface PlannedMessage {
  channel: Channel;
  notBefore: Date;
  reason: string;
}

/** The first messages of a new transfer. */
export function initialMessages(policy: DeliveryPolicy, recipient: Recipient, now: Date): PlannedMessage[] {
  if (!recipient.recipientPhone) return [{ channel: "EMAIL", notBefore: now, reason: "the recipient has only an email address" }];
  const planned: PlannedMessage[] = [
    {
      channel: "RCS",
      notBefore: new Date(now.getTime() + policy.rcsDelayMinutes * 60_000),
      reason: policy.rcsDelayMinutes > 0 ? `RCS first, ${policy.rcsDelayMinutes} min after creation` : "RCS first",
    },
  ];
  if (recipient.recipientEmail && policy.emailCopy === "ALWAYS") {
    planned.push({ channel: "EMAIL", notBefore: now, reason: "email copy for the audit trail" });
  }
  return planned;
}

/** Where a message on `channel` falls back to, if anywhere: RCS → SMS → email, as the policy allows. */
export function fallbackChannel(policy: DeliveryPolicy, channel: Channel, recipient: Recipient): Channel | null {
  if (channel === "RCS" && policy.fallbackToSms && recipient.recipientPhone) return "SMS";
  if (channel !== "EMAIL" && policy.emailCopy === "ON_FAILURE" && recipient.recipientEmail) return "EMAIL";
  return null;
}

/**
 * A message's fallback timer once its status has moved: delivery (or suppression) disarms it; a
 * failure, or a revocation by the provider (an RCS TTL expiry), makes it due at once.
 */
export function fallbackAfter(message: { status: MessageStatus; fallbackAt: Date | null }, now: Date): Date | null {
  if (!message.fallbackAt) return null;
  if (message.status === "FAILED" || message.status === "REVOKED") return message.fallbackAt.getTime() < now.getTime() ? message.fallbackAt : now;
  return message.status === "QUEUED" || message.status === "SENT" ? message.fallbackAt : null;
}

/**
 * When a message queued now falls back unless delivered first: after the policy's minutes, or
 * (failure only) at the transfer's expiry, when falling back no longer matters. Null when there is
 * nowhere to fall back to.
 */
export function fallbackDueAt(
  policy: DeliveryPolicy,
  channel: Channel,
  transfer: Recipient & { expiresAt: Date },
  notBefore: Date,
): Date | null {
  if (!fallbackChannel(policy, channel, transfer)) return null;
  if (policy.fallbackAfterMinutes === null) return transfer.expiresAt;
  return new Date(Math.min(transfer.expiresAt.getTime(), notBefore.getTime() + policy.fallbackAfterMinutes * 60_000));
}
