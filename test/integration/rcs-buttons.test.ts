import { calculateJwkThumbprint, type JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import { ResendNotificationDocument } from "../generated/graphql.js";
import { formatExpiry } from "../../src/domain/expiry-text.js";
import { graphql } from "../helpers/graphql.js";
import { PUBLIC_BASE_URL, serverSendingThroughTwilio, serverSendingThroughVonage, TWILIO_ACCOUNT_SID } from "../helpers/provider-server.js";
import { serverWithFakeCpaas } from "../helpers/server-fixture.js";
import { tokenFor, type TestServer } from "../helpers/server.js";
import { createTransfer, getTransfer, history, sentTransfer } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { postGeneric, postTwilio, postVonage } from "../helpers/webhooks.js";

/**
 * The seed's RCS notification carries two buttons, Download (the link) and Verify ID (postback
 * `verify:<transfer id>`), through every RCS provider; a Verify ID tap, through that provider's own
 * signed webhook, is answered in the conversation and recorded as an ACTION with `action: verify`.
 */

/** The facts the answer must name: the sender, the expiry and the signing key's fingerprint from the JWKS. */
async function expectedFacts(server: TestServer, token: string, transferId: string) {
  const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  const transfer = await getTransfer(server, token, transferId);
  return ["Acme", formatExpiry(new Date(transfer!.expiresAt)), await calculateJwkThumbprint(jwks.keys[0]!, "sha256")];
}

/** The transfer's ACTION events as [source, postback or action, outcome]. */
async function actions(server: TestServer, token: string, transferId: string) {
  return eventually(async () => {
    const found = (await history(server, token, transferId)).filter((event) => event.event === "ACTION");
    return found.length === 2 ? found.map((event) => [event.source, event.metadata.action ?? event.metadata.postback, event.metadata.outcome ?? null]) : undefined;
  }, "the tap and its answer");
}

describe("Vonage: the rich card's two buttons, and the answer to Verify ID", () => {
  const context = serverSendingThroughVonage();
  const sendTo = (number: string, channel: string) =>
    eventually(() => context.fake.requests.find((request) => request.body?.to === number && request.body.channel === channel && request.messageUuid), `a Vonage ${channel} send to ${number}`);
  const inbound = (from: string, transferId: string) => ({
    channel: "rcs",
    message_uuid: crypto.randomUUID(),
    to: "AckTransfersAgent",
    from,
    timestamp: new Date().toISOString(),
    message_type: "reply",
    reply: { id: `verify:${transferId}`, title: "Verify ID" },
  });

  it("RCS goes as a custom message whose card carries Download (the link) and Verify ID; a resend over SMS is plain text", async () => {
    const transfer = await createTransfer(context.server, context.token, "+447700900201");
    const rcs = await sendTo("447700900201", "rcs");
    expect(rcs.body!.message_type).toBe("custom");
    const card = (rcs.body!.custom as { contentMessage: { richCard: { standaloneCard: { cardContent: { suggestions: Array<Record<string, Record<string, unknown>>> } } } } }).contentMessage.richCard
      .standaloneCard.cardContent;
    const [download, verify] = card.suggestions;
    expect(download!.action).toMatchObject({ text: "Download", postbackData: `download:${transfer.id}` });
    expect((download!.action!.openUrlAction as { url: string }).url.startsWith(`${PUBLIC_BASE_URL}/`)).toBe(true);
    expect(verify).toEqual({ reply: { text: "Verify ID", postbackData: `verify:${transfer.id}` } });

    await graphql(context.server.url, ResendNotificationDocument, { input: { transferId: transfer.id, channel: "SMS" } }, context.token);
    const sms = await sendTo("447700900201", "sms");
    expect(sms.body).toMatchObject({ message_type: "text", channel: "sms" });
    expect(sms.body!.text).toContain(`${PUBLIC_BASE_URL}/`);
  });

  it("a Verify ID tap from the recipient is answered with the sender, the expiry and the key's fingerprint, and recorded", async () => {
    const transfer = await createTransfer(context.server, context.token, "+447700900202");
    await sendTo("447700900202", "rcs");
    expect((await postVonage(`${context.server.url}/webhooks/vonage`, inbound("447700900202", transfer.id))).status).toBe(200);

    const answer = await eventually(() => context.fake.requests.find((request) => request.body?.to === "447700900202" && request.body.message_type === "text"), "the answer");
    expect(answer.body).toMatchObject({ channel: "rcs", from: "AckTransfersAgent" });
    for (const fact of await expectedFacts(context.server, context.token, transfer.id)) expect(answer.body!.text).toContain(fact);
    expect(await actions(context.server, context.token, transfer.id)).toEqual([
      ["vonage", `verify:${transfer.id}`, null],
      ["ackline", "verify", "sent"],
    ]);
  });

  it("a Verify ID postback from another phone is not answered (recorded as refused)", async () => {
    const transfer = await createTransfer(context.server, context.token, "+447700900203");
    await sendTo("447700900203", "rcs");
    expect((await postVonage(`${context.server.url}/webhooks/vonage`, inbound("447700900999", transfer.id))).status).toBe(200);
    expect(await actions(context.server, context.token, transfer.id)).toEqual([
      ["vonage", `verify:${transfer.id}`, null],
      ["ackline", "verify", "refused"],
    ]);
    expect(context.fake.requests.filter((request) => request.body?.message_type === "text" && ["447700900203", "447700900999"].includes(request.body.to as string))).toEqual([]);
  });
});

describe("Twilio: the Content Template's two buttons, and the answer to Verify ID", () => {
  const CONTENT_SID = `HX${"0123456789abcdef".repeat(2)}`;
  const context = serverSendingThroughTwilio({ TWILIO_CONTENT_SID: CONTENT_SID });
  const sendTo = (to: string, has: "ContentSid" | "Body") => eventually(() => context.fake.requests.find((request) => request.form.To === to && request.form[has] && request.sid), `a Twilio send to ${to}`);

  it("RCS goes with ContentSid and ContentVariables (no Body); a resend over SMS is plain text", async () => {
    const transfer = await createTransfer(context.server, context.token, "+14165550301");
    const rcs = await sendTo("rcs:+14165550301", "ContentSid");
    expect(rcs.form.ContentSid).toBe(CONTENT_SID);
    expect(rcs.form.Body).toBeUndefined();
    const variables = JSON.parse(rcs.form.ContentVariables!) as Record<string, string>;
    expect(variables).toMatchObject({ "1": "Acme", "2": "report.pdf", "5": transfer.id });
    // The template's Download URL is the public origin followed by {{4}}.
    expect(`${PUBLIC_BASE_URL}/${variables["4"]}`).toMatch(new RegExp(`^${PUBLIC_BASE_URL}/d/`));

    await graphql(context.server.url, ResendNotificationDocument, { input: { transferId: transfer.id, channel: "SMS" } }, context.token);
    const sms = await sendTo("+14165550301", "Body");
    expect(sms.form.ContentSid).toBeUndefined();
    // A short link of its own: each code is bound to its message and channel.
    const smsLink = new RegExp(`${PUBLIC_BASE_URL}/(d/[A-Za-z0-9_-]{1,32})`).exec(sms.form.Body!)?.[1];
    expect(smsLink).toBeDefined();
    expect(smsLink).not.toBe(variables["4"]);
  });

  it("a Verify ID tap (ButtonPayload) from the recipient is answered in the conversation and recorded", async () => {
    const transfer = await createTransfer(context.server, context.token, "+14165550302");
    await sendTo("rcs:+14165550302", "ContentSid");
    const tap = { MessageSid: `SM${"d".repeat(32)}`, AccountSid: TWILIO_ACCOUNT_SID, From: "rcs:+14165550302", To: "rcs:acme_agent", ButtonPayload: `verify:${transfer.id}`, ButtonText: "Verify ID" };
    const result = await postTwilio(`${context.server.url}/webhooks/twilio`, tap, { signedUrl: `${PUBLIC_BASE_URL}/webhooks/twilio` });
    expect(result.status).toBe(200);

    const answer = await sendTo("rcs:+14165550302", "Body");
    expect(answer.form.From).toBe("rcs:acme_agent");
    for (const fact of await expectedFacts(context.server, context.token, transfer.id)) expect(answer.form.Body).toContain(fact);
    expect(await actions(context.server, context.token, transfer.id)).toEqual([
      ["twilio", `verify:${transfer.id}`, null],
      ["ackline", "verify", "sent"],
    ]);
  });
});

describe("generic CPaaS: the template carries the buttons; a Verify ID click is answered through the send API", () => {
  const fixture = serverWithFakeCpaas();

  it("a click on the message sent to the recipient, with the verify postback, is answered with the reply template", async () => {
    const token = await tokenFor(uniqueTenant("buttons"));
    const { transfer, providerMessageId } = await sentTransfer(fixture.server, fixture.cpaas, token, "+14165550401");
    const click = { event: "message.clicked", timestamp: new Date().toISOString(), message_id: providerMessageId, channel: "rcs", metadata: { postback: `verify:${transfer.id}` } };
    expect((await postGeneric(fixture.server.url, click)).status).toBe(200);

    const answer = await eventually(() => fixture.cpaas.sends.find((send) => send.body.template_id === "ackline_reply"), "the reply through the send API");
    expect(answer.body).toMatchObject({ to: "+14165550401", type: "rcs" });
    for (const fact of await expectedFacts(fixture.server, token, transfer.id)) expect((answer.body.params as unknown as { text: string }).text).toContain(fact);
    expect(await actions(fixture.server, token, transfer.id)).toEqual([
      ["generic", `verify:${transfer.id}`, null],
      ["ackline", "verify", "sent"],
    ]);
  });
});
