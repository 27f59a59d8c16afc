import { describe, expect, it } from "vitest";
import { RevokeTransferDocument } from "../generated/graphql.js";
import { graphql } from "../helpers/graphql.js";
import { PUBLIC_BASE_URL, serverSendingThroughTwilio, serverSendingThroughVonage, TWILIO_ACCOUNT_SID } from "../helpers/provider-server.js";
import type { TestServer } from "../helpers/server.js";
import { createTransfer, getTransfer, history } from "../helpers/transfers.js";
import { eventually } from "../helpers/wait.js";
import { postTwilio, postVonage } from "../helpers/webhooks.js";

/**
 * The whole loop through the real adapters: Ackline sends through Twilio or Vonage (local fakes of
 * their APIs), naming its receipt door on each message; the test then plays the provider and posts
 * signed receipts to exactly that door.
 */

/** Events from the provider (not Ackline's own decisions). */
async function receipts(server: TestServer, token: string, transferId: string) {
  return (await history(server, token, transferId)).filter((event) => event.source !== "ackline");
}

/** Waits until the transfer's message carries `providerMessageId` (the send's answer was recorded). */
function recorded(server: TestServer, token: string, transferId: string, providerMessageId: string) {
  return eventually(async () => {
    const transfer = await getTransfer(server, token, transferId);
    return transfer?.messages.find((message) => message.providerMessageId === providerMessageId);
  }, `provider id ${providerMessageId} recorded`);
}

describe("Twilio: sent through the adapter, receipts through /webhooks/twilio", () => {
  const context = serverSendingThroughTwilio();
  let phoneCounter = 0;
  const nextPhone = () => `+1416555${String(4000 + phoneCounter++)}`;

  /** A transfer whose RCS message Twilio accepted: its SID and the StatusCallback Twilio was given. */
  async function sentThroughTwilio(phone = nextPhone()) {
    const transfer = await createTransfer(context.server, context.token, phone);
    const send = await eventually(() => context.fake.requests.find((request) => request.form.To === `rcs:${phone}` && request.sid), `Twilio send to ${phone}`);
    const message = await recorded(context.server, context.token, transfer.id, send.sid!);
    return { transfer, phone, message, sid: send.sid!, callbackUrl: send.form.StatusCallback! };
  }

  /** Posts to the door as the proxy forwards it (same path and query), signed over the public URL Twilio called. */
  const callback = (callbackUrl: string, params: Record<string, string>) =>
    postTwilio(callbackUrl.replace(PUBLIC_BASE_URL, context.server.url), params, { signedUrl: callbackUrl });

  it("each message names the public /webhooks/twilio URL with its client_message_id; signed sent → delivered → read move the transfer", async () => {
    const { transfer, phone, message, sid, callbackUrl } = await sentThroughTwilio();
    expect(callbackUrl).toBe(`${PUBLIC_BASE_URL}/webhooks/twilio?client_message_id=${message.id}`);

    const status = (MessageStatus: string) => ({
      MessageSid: sid,
      SmsSid: sid,
      AccountSid: TWILIO_ACCOUNT_SID,
      From: "rcs:acme_agent",
      To: `rcs:${phone}`,
      MessageStatus,
      SmsStatus: MessageStatus,
      ApiVersion: "2010-04-01",
    });
    for (const [twilioStatus, expected] of [
      ["sent", "SENT"],
      ["delivered", "DELIVERED"],
      ["read", "READ"],
    ] as const) {
      expect(await callback(callbackUrl, status(twilioStatus))).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
      expect((await getTransfer(context.server, context.token, transfer.id))?.status).toBe(expected);
    }
    // Twilio retries a callback it thinks failed: the same status is a duplicate.
    expect(await callback(callbackUrl, status("read"))).toEqual({ status: 200, body: { received: 1, stored: 0, duplicates: 1 } });

    const events = await receipts(context.server, context.token, transfer.id);
    expect(events.map((event) => [event.event, event.channel, event.source, event.provider, event.messageId])).toEqual([
      ["SENT", "RCS", "twilio", "twilio", message.id],
      ["DELIVERED", "RCS", "twilio", "twilio", message.id],
      ["READ", "RCS", "twilio", "twilio", message.id],
    ]);
    expect(events[2]!.metadata).toEqual({ status: "read" });
  });

  it("a receipt for a SID Ackline never recorded (the send's answer was lost) still finds its message by the signed client_message_id", async () => {
    const { transfer, phone, message, callbackUrl } = await sentThroughTwilio();
    const lostSid = `SM${"f".repeat(32)}`;
    const result = await callback(callbackUrl, { MessageSid: lostSid, To: `rcs:${phone}`, From: "rcs:acme_agent", MessageStatus: "delivered" });
    expect(result).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
    expect((await getTransfer(context.server, context.token, transfer.id))?.status).toBe("DELIVERED");
    expect((await receipts(context.server, context.token, transfer.id)).map((event) => [event.event, event.messageId])).toEqual([["DELIVERED", message.id]]);
  });

  it("an undelivered callback fails the message and keeps Twilio's ErrorCode", async () => {
    const { transfer, phone, sid, callbackUrl } = await sentThroughTwilio();
    const result = await callback(callbackUrl, { MessageSid: sid, To: `rcs:${phone}`, From: "rcs:acme_agent", MessageStatus: "undelivered", ErrorCode: "30003" });
    expect(result.status).toBe(200);
    const [failed] = await receipts(context.server, context.token, transfer.id);
    expect(failed).toMatchObject({ event: "FAILED", metadata: { status: "undelivered", error_code: "30003" } });
  });

  it("an inbound STOP from the recipient (to the console-configured door, no query) is an OPT_OUT on their latest transfer", async () => {
    const { transfer, phone } = await sentThroughTwilio();
    const inbound = { MessageSid: `SM${"e".repeat(32)}`, AccountSid: TWILIO_ACCOUNT_SID, From: `rcs:${phone}`, To: "rcs:acme_agent", Body: "STOP", SmsStatus: "received" };
    const result = await postTwilio(`${context.server.url}/webhooks/twilio`, inbound, { signedUrl: `${PUBLIC_BASE_URL}/webhooks/twilio` });
    // Twilio expects TwiML from an incoming-message webhook: an empty Response replies nothing.
    expect(result.status).toBe(200);
    expect(result.body.contentType).toMatch(/^text\/xml/);
    expect(result.body.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    expect((await receipts(context.server, context.token, transfer.id)).map((event) => [event.event, event.channel])).toEqual([["OPT_OUT", "RCS"]]);
  });
});

describe("Vonage: sent through the adapter, receipts through /webhooks/vonage", () => {
  const context = serverSendingThroughVonage();

  it("each message names the public /webhooks/vonage URL; signed submitted → delivered → read move the transfer", async () => {
    const phone = "+447700900123";
    const transfer = await createTransfer(context.server, context.token, phone);
    const send = await eventually(() => context.fake.requests.find((request) => request.body?.to === "447700900123" && request.messageUuid), "Vonage send");
    const message = await recorded(context.server, context.token, transfer.id, send.messageUuid!);
    expect(send.body).toMatchObject({ channel: "rcs", client_ref: message.id, webhook_url: `${PUBLIC_BASE_URL}/webhooks/vonage` });

    const status = (vonageStatus: string) => ({
      message_uuid: send.messageUuid,
      to: "447700900123",
      from: "AckTransfersAgent",
      timestamp: new Date().toISOString(),
      status: vonageStatus,
      channel: "rcs",
      client_ref: message.id,
    });
    for (const [vonageStatus, expected] of [
      ["submitted", "SENT"],
      ["delivered", "DELIVERED"],
      ["read", "READ"],
    ] as const) {
      expect(await postVonage(`${context.server.url}/webhooks/vonage`, status(vonageStatus))).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
      expect((await getTransfer(context.server, context.token, transfer.id))?.status).toBe(expected);
    }
    // A retried callback (another JWT, same status) is a duplicate.
    expect(await postVonage(`${context.server.url}/webhooks/vonage`, status("read"))).toEqual({ status: 200, body: { received: 1, stored: 0, duplicates: 1 } });

    const events = await receipts(context.server, context.token, transfer.id);
    expect(events.map((event) => [event.event, event.channel, event.source, event.provider, event.messageId])).toEqual([
      ["SENT", "RCS", "vonage", "vonage", message.id],
      ["DELIVERED", "RCS", "vonage", "vonage", message.id],
      ["READ", "RCS", "vonage", "vonage", message.id],
    ]);
  });

  it("revokeTransfer asks Vonage to withdraw the RCS message in flight, and records its answer", async () => {
    const transfer = await createTransfer(context.server, context.token, "+447700900125");
    const send = await eventually(() => context.fake.requests.find((request) => request.body?.to === "447700900125" && request.messageUuid), "Vonage send");
    const message = await recorded(context.server, context.token, transfer.id, send.messageUuid!);
    const revoked = await graphql(context.server.url, RevokeTransferDocument, { id: transfer.id, reason: "wrong recipient" }, context.token);
    expect(revoked.body.data!.revokeTransfer.messages[0]!.status).toBe("REVOKED");

    expect(context.fake.requests.filter((request) => request.method === "PATCH")).toEqual([
      expect.objectContaining({ path: `/v1/messages/${send.messageUuid}`, body: { status: "revoked" }, status: 200 }),
    ]);
    const answers = (await history(context.server, context.token, transfer.id)).filter((event) => event.event === "REVOKED" && event.messageId === message.id);
    expect(answers.map((event) => event.metadata.provider_revoke ?? "sender")).toEqual(["sender", "accepted"]);
  });

  it("a tapped suggestion with the postback download:<transfer id> is an ACTION on that transfer", async () => {
    const transfer = await createTransfer(context.server, context.token, "+447700900124");
    const result = await postVonage(`${context.server.url}/webhooks/vonage`, {
      channel: "rcs",
      message_uuid: "bbbbbbbb-cccc-4ddd-8eee-0123456789ab",
      to: "AckTransfersAgent",
      from: "447700900124",
      timestamp: new Date().toISOString(),
      message_type: "reply",
      reply: { id: `download:${transfer.id}`, title: "Download" },
    });
    expect(result).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
    const events = await receipts(context.server, context.token, transfer.id);
    expect(events.map((event) => [event.event, event.metadata])).toEqual([["ACTION", { kind: "reply", postback: `download:${transfer.id}`, text: "Download" }]]);
  });
});
