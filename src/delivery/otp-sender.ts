import type { Channel } from "../domain/model.js";
import { newId } from "../domain/ids.js";
import type { OtpSender } from "../domain/otp.service.js";
import type { DeliveryAdapter } from "./adapter.js";

/** `+14165550100` → `•••0100`; `ann@example.com` → `a•••@example.com`: enough for the recipient to recognise. */
function masked(address: string): string {
  const at = address.indexOf("@");
  return at > 0 ? `${address[0]}•••${address.slice(at)}` : `•••${address.slice(-4)}`;
}

/**
 * Sends a download's one-time code on a second channel: SMS through the SMS provider to the
 * recipient's phone (the generic CPaaS uses template `ackline_otp`), or email when there is no
 * phone or the SMS provider cannot send codes.
 */
export function createOtpSender(adapters: Record<Channel, DeliveryAdapter>): OtpSender {
  return async (transfer, code) => {
    const route = transfer.recipientPhone && adapters.SMS.sendOtp
      ? { channel: "SMS" as const, to: transfer.recipientPhone, adapter: adapters.SMS }
      : transfer.recipientEmail && adapters.EMAIL.sendOtp
        ? { channel: "EMAIL" as const, to: transfer.recipientEmail, adapter: adapters.EMAIL }
        : undefined;
    if (!route) return { sent: false, error: "no second channel can carry a code to this recipient" };
    const outcome = await route.adapter.sendOtp!({ transfer, code, clientMessageId: newId("msg") }).catch((error: unknown) => ({ kind: "transient" as const, error: (error as Error).message }));
    return outcome.kind === "accepted" ? { sent: true, channel: route.channel, maskedTo: masked(route.to) } : { sent: false, error: outcome.error };
  };
}
