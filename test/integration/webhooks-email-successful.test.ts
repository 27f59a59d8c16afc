import { createServer } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SuppressionsDocument } from "../generated/graphql.js";
import { emailSentThrough, startEmailRelays } from "../helpers/email-relay.js";
import { postMailgun, postSendGrid } from "../helpers/email-webhooks.js";
import { graphql } from "../helpers/graphql.js";
import { listenOnLoopback } from "../helpers/listen.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { createSnsSigner, postSns, snsNotification, snsSubscriptionConfirmation } from "../helpers/sns.js";
import { getTransfer, history } from "../helpers/transfers.js";

/**
 * The email doors through the real server: Ackline sends each email copy through a local SMTP
 * server answering as SendGrid's, SES's or Mailgun's relay would; the test then plays the provider
 * and posts signed events that name the message as that provider does.
 */

const signer = await createSnsSigner();
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

describe("email webhooks — accepted and correlated", () => {
  let relays: Awaited<ReturnType<typeof startEmailRelays>>;
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    relays = await startEmailRelays();
    server = await startTestServer({ env: { SMTP_URL: relays.url, SNS_CERTIFICATES: JSON.stringify(signer.certificates) } });
    token = await tokenFor("acme-mail");
  });
  afterAll(async () => {
    await server?.close();
    await relays?.close();
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  /** The provider's events for a transfer (Ackline's own decisions left out). */
  const receipts = async (transferId: string) => (await history(server, token, transferId)).filter((event) => event.source !== "ackline");
  const status = async (transferId: string) => (await getTransfer(server, token, transferId))?.messages.find((message) => message.channel === "EMAIL")?.status;
  const emailSuppressions = async () => (await graphql(server.url, SuppressionsDocument, {}, token)).body.data!.suppressions.filter((each) => each.kind === "EMAIL");

  it("SendGrid: a signed batch is stored event by event, found by the relay's id at the start of sg_message_id; its retry is all duplicates", async () => {
    const { transfer, email, message } = await emailSentThrough(server, token, "sendgrid");
    expect(message.providerMessageId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const at = seconds(new Date()) - 60;
    const event = (event: string, id: string, extra: Record<string, unknown> = {}) => ({
      email,
      timestamp: at + id.length,
      "smtp-id": `<${message.providerMessageId}@ismtpd0001p1iad2.sendgrid.net>`,
      event,
      sg_event_id: `${id}-${message.providerMessageId}`,
      sg_message_id: `${message.providerMessageId}.filterdrecv-7bc86b958d-2ms2l-1-64A5C57B-2.0`,
      ...extra,
    });
    const batch = [event("processed", "p"), event("delivered", "dd", { response: "250 OK" }), event("open", "ooo"), event("click", "cccc", { url: "https://example.com/t" })];

    expect(await postSendGrid(server.url, batch)).toEqual({ status: 200, body: { received: 4, stored: 4, duplicates: 0 } });
    expect(await postSendGrid(server.url, batch)).toEqual({ status: 200, body: { received: 4, stored: 0, duplicates: 4 } });

    const events = await receipts(transfer.id);
    expect(events.map((each) => [each.event, each.channel, each.source, each.messageId])).toEqual([
      ["SENT", "EMAIL", "sendgrid", message.id],
      ["DELIVERED", "EMAIL", "sendgrid", message.id],
      ["READ", "EMAIL", "sendgrid", message.id],
      ["ACTION", "EMAIL", "sendgrid", message.id],
    ]);
    expect(events[3]!.metadata).toMatchObject({ event: "click", url: "https://example.com/t", recipient: email });
    expect((await getTransfer(server, token, transfer.id))?.status).toBe("READ");
  });

  it("SendGrid: a hard bounce fails the email and suppresses the address", async () => {
    const { transfer, email, message } = await emailSentThrough(server, token, "sendgrid");
    const bounce = {
      email,
      timestamp: seconds(new Date()) - 5,
      event: "bounce",
      type: "bounce",
      status: "5.1.1",
      reason: "550 5.1.1 The email account that you tried to reach does not exist.",
      sg_event_id: `bounce-${message.providerMessageId}`,
      sg_message_id: `${message.providerMessageId}.filterdrecv-1.0`,
    };
    expect(await postSendGrid(server.url, [bounce])).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
    expect(await status(transfer.id)).toBe("FAILED");
    expect(await emailSuppressions()).toContainEqual(expect.objectContaining({ address: email, reason: "BOUNCE", createdBy: "receipt" }));
  });

  it("Mailgun: events are found by the Message-ID Ackline set (Mailgun's relay names no id of its own)", async () => {
    const { transfer, email, message } = await emailSentThrough(server, token, "mailgun");
    expect(message.providerMessageId).toBe(`<${message.id}@ackline>`);
    const at = Date.now() / 1000 - 30;
    const event = (name: string, id: string) => ({
      id,
      event: name,
      timestamp: at,
      recipient: email,
      message: { headers: { to: email, "message-id": `${message.id}@ackline`, from: "notify@ackline.example.test", subject: "Acme sent you report.pdf" } },
    });
    expect(await postMailgun(server.url, event("delivered", "mg-delivered-1"))).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
    expect(await postMailgun(server.url, event("opened", "mg-opened-1"))).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
    // Mailgun retries with a fresh signature: a new token, the same event, a duplicate.
    expect(await postMailgun(server.url, event("opened", "mg-opened-1"))).toEqual({ status: 200, body: { received: 1, stored: 0, duplicates: 1 } });

    expect((await receipts(transfer.id)).map((each) => [each.event, each.source, each.messageId])).toEqual([
      ["DELIVERED", "mailgun", message.id],
      ["READ", "mailgun", message.id],
    ]);
    expect(await status(transfer.id)).toBe("READ");
  });

  it("SES: a Bounce after the Delivery ends the email FAILED (an email bounce may follow delivery) and suppresses the address; a late Delivery changes nothing", async () => {
    const { transfer, email, message } = await emailSentThrough(server, token, "ses");
    expect(message.providerMessageId).toMatch(/^[0-9a-f]{16}-[0-9a-f-]{36}-000000$/);
    const mail = { timestamp: new Date(Date.now() - 60_000).toISOString(), source: "notify@ackline.example.test", messageId: message.providerMessageId, destination: [email] };
    const delivery = { eventType: "Delivery", mail, delivery: { timestamp: new Date(Date.now() - 50_000).toISOString(), recipients: [email], smtpResponse: "250 2.6.0 Message received" } };
    const bounce = {
      notificationType: "Bounce",
      mail,
      bounce: { bounceType: "Permanent", bounceSubType: "General", bouncedRecipients: [{ emailAddress: email, status: "5.1.1" }], timestamp: new Date(Date.now() - 40_000).toISOString() },
    };

    const delivered = snsNotification(signer, delivery, { version: "2" });
    expect(await postSns(server.url, delivered)).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
    expect(await status(transfer.id)).toBe("DELIVERED");
    expect(await postSns(server.url, snsNotification(signer, bounce))).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
    expect(await status(transfer.id)).toBe("FAILED");
    expect(await emailSuppressions()).toContainEqual(expect.objectContaining({ address: email, reason: "BOUNCE" }));

    // SNS delivers the Delivery notification again (its retry): a duplicate; a second Delivery moves nothing back.
    expect((await postSns(server.url, delivered)).body).toEqual({ received: 1, stored: 0, duplicates: 1 });
    expect((await postSns(server.url, snsNotification(signer, delivery))).body).toEqual({ received: 1, stored: 1, duplicates: 0 });
    expect(await status(transfer.id)).toBe("FAILED");
    // In the order they arrived: the late Delivery last.
    expect((await receipts(transfer.id)).map((each) => [each.event, each.source, each.messageId])).toEqual([
      ["DELIVERED", "ses", message.id],
      ["FAILED", "ses", message.id],
      ["DELIVERED", "ses", message.id],
    ]);
  });

  it("SES: the configured topic's SubscriptionConfirmation is confirmed by visiting its SubscribeURL, once accepted", async () => {
    const visits: string[] = [];
    const sns = await listenOnLoopback(
      createServer((request, response) => {
        visits.push(request.url ?? "");
        response.writeHead(200, { "content-type": "text/xml" }).end("<ConfirmSubscriptionResponse/>");
      }),
    );
    // SNS's host, reached on loopback: the door still only ever visits https://sns.<region>.amazonaws.com/.
    const realFetch = globalThis.fetch;
    vi.stubGlobal("fetch", (input: string | URL | Request, init?: RequestInit) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const snsHost = "https://sns.us-east-1.amazonaws.com";
      return realFetch(url.startsWith(`${snsHost}/`) ? sns.url + url.slice(snsHost.length) : input, init);
    });
    try {
      const confirmation = snsSubscriptionConfirmation(signer);
      expect(await postSns(server.url, confirmation)).toEqual({ status: 200, body: { received: 0, stored: 0, duplicates: 0 } });
      expect(visits).toEqual([confirmation.SubscribeURL!.slice("https://sns.us-east-1.amazonaws.com".length)]);
      expect(new URL(confirmation.SubscribeURL!).searchParams.get("Token")).toBe(confirmation.Token);
    } finally {
      await sns.close();
    }
  });
});
