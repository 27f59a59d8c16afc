import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { startTestServer, TEST_RBM_CLIENT_TOKEN, tokenFor, type TestServer } from "../helpers/server.js";
import { createTransfer, getTransfer, history, sentTransfer } from "../helpers/transfers.js";
import { eventually } from "../helpers/wait.js";
import { basicAuthorization, postInfobip, postRbm, postSinch, postTo, rbmEnvelope, rbmSignature, sinchHeaders, type PostResult } from "../helpers/webhooks.js";

/**
 * The Google RBM, Sinch and Infobip doors through the real server. Ackline sends through the
 * generic CPaaS (a local fake) and records its provider id; the test then plays RBM, Sinch or
 * Infobip reporting on that id, signed as each signs.
 */

type FakeCpaas = Awaited<ReturnType<typeof startFakeCpaas>>;

let server: TestServer;
let cpaas: FakeCpaas;
let token: string;
let phoneCounter = 0;
const nextPhone = () => `+1416555${String(6000 + phoneCounter++)}`;
/** E.164 without its +, as Sinch and Infobip write numbers. */
const bare = (phone: string) => phone.slice(1);

beforeAll(async () => {
  cpaas = await startFakeCpaas();
  server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url } });
  token = await tokenFor("acme");
});
afterAll(async () => {
  await server?.close();
  await cpaas?.close();
});

const door = (name: string) => `${server.url}/webhooks/${name}`;
/** A transfer to a new phone whose RCS message the fake CPaaS accepted, its provider id recorded. */
async function sent() {
  const phone = nextPhone();
  return { phone, ...(await sentTransfer(server, cpaas, token, phone)) };
}
const stored = (count = 1) => ({ status: 200, body: { received: count, stored: count, duplicates: 0 } });
const duplicate = { status: 200, body: { received: 1, stored: 0, duplicates: 1 } };

/** Events from a provider (not Ackline's own decisions), oldest first. */
async function receipts(transferId: string) {
  return (await history(server, token, transferId)).filter((event) => event.source !== "ackline");
}

function expectRejected(result: PostResult, status: number, reason?: RegExp) {
  expect(result.status).toBe(status);
  expect(typeof result.body.error).toBe("string");
  if (reason) expect(result.body.error).toMatch(reason);
  expect(result.body).not.toHaveProperty("stored");
}

describe("Google RBM: accepted through /webhooks/rbm", () => {
  const userEvent = (eventType: string, messageId: string, phone: string) => ({
    senderPhoneNumber: phone,
    eventType,
    eventId: `Mx${randomBytes(6).toString("hex")}`,
    messageId,
    sendTime: new Date().toISOString(),
    agentId: "acme-transfers@rbm.goog",
  });

  it("the console's set-up handshake is answered with the secret as plain text", async () => {
    const result = await postTo(door("rbm"), JSON.stringify({ clientToken: TEST_RBM_CLIENT_TOKEN, secret: "1234567890" }), {});
    expect(result.status).toBe(200);
    expect(result.body.contentType).toMatch(/^text\/plain/);
    expect(result.body.text).toBe("1234567890");
  });

  it("signed DELIVERED → READ move the transfer, correlated by the provider's message id; a retry is a duplicate", async () => {
    const { transfer, phone, messageId, providerMessageId } = await sent();
    const delivered = userEvent("DELIVERED", providerMessageId, phone);
    expect(await postRbm(door("rbm"), delivered)).toEqual(stored());
    expect((await getTransfer(server, token, transfer.id))?.status).toBe("DELIVERED");
    expect(await postRbm(door("rbm"), userEvent("READ", providerMessageId, phone))).toEqual(stored());
    expect((await getTransfer(server, token, transfer.id))?.status).toBe("READ");
    // Google retries for 7 days: the same (eventId, phone) is a duplicate.
    expect(await postRbm(door("rbm"), delivered)).toEqual(duplicate);

    const events = await receipts(transfer.id);
    expect(events.map((event) => [event.event, event.channel, event.source, event.messageId])).toEqual([
      ["DELIVERED", "RCS", "rbm", messageId],
      ["READ", "RCS", "rbm", messageId],
    ]);
  });

  it("TTL_EXPIRATION_REVOKED revokes the RCS message and its SMS fallback is queued", async () => {
    const { transfer, phone, messageId, providerMessageId } = await sent();
    const revoked = {
      phoneNumber: phone,
      messageId: providerMessageId,
      agentId: "acme-transfers@rbm.goog",
      eventType: "TTL_EXPIRATION_REVOKED",
      eventId: randomUUID(),
      sendTime: new Date().toISOString(),
    };
    expect(await postRbm(door("rbm"), revoked)).toEqual(stored());
    const fallback = await eventually(async () => {
      const current = await getTransfer(server, token, transfer.id);
      return current?.messages.find((message) => message.fallbackOfMessageId === messageId);
    }, "the SMS fallback of the revoked RCS message");
    expect(fallback.channel).toBe("SMS");
    const original = (await getTransfer(server, token, transfer.id))?.messages.find((message) => message.id === messageId);
    expect(original?.status).toBe("REVOKED");
  });

  it("a tapped suggestion with Ackline's postback is an ACTION on that transfer", async () => {
    const phone = nextPhone();
    const transfer = await createTransfer(server, token, phone);
    const tap = {
      senderPhoneNumber: phone,
      messageId: `Ms${randomBytes(6).toString("hex")}`,
      sendTime: new Date().toISOString(),
      suggestionResponse: { postbackData: `download:${transfer.id}`, text: "Download", type: "ACTION" },
    };
    expect(await postRbm(door("rbm"), tap)).toEqual(stored());
    expect((await receipts(transfer.id)).map((event) => [event.event, event.metadata])).toEqual([
      ["ACTION", { suggestion_type: "ACTION", postback: `download:${transfer.id}`, text: "Download" }],
    ]);
  });
});

describe("Sinch: accepted through /webhooks/sinch", () => {
  const report = (messageId: string, phone: string, status: string, extra: Record<string, unknown> = {}) => ({
    app_id: "01H0MFFJFX0YAWYA5XG4D3MRTA",
    accepted_time: new Date().toISOString(),
    event_time: new Date().toISOString(),
    project_id: "517ccc41-7c1a-4dfe-af03-dfe804116121",
    message_delivery_report: {
      message_id: messageId,
      conversation_id: "",
      status,
      channel_identity: { channel: "RCS", identity: bare(phone), app_id: "01H0MFFJFX0YAWYA5XG4D3MRTA" },
      contact_id: "",
      metadata: "",
      processing_mode: "DISPATCH",
      ...extra,
    },
    message_metadata: "",
  });

  it("signed QUEUED_ON_CHANNEL → DELIVERED → READ move the transfer; a retry is a duplicate", async () => {
    const { transfer, phone, messageId, providerMessageId } = await sent();
    for (const [status, expected] of [
      ["QUEUED_ON_CHANNEL", "QUEUED"],
      ["DELIVERED", "DELIVERED"],
      ["READ", "READ"],
    ] as const) {
      expect(await postSinch(door("sinch"), report(providerMessageId, phone, status))).toEqual(stored());
      expect((await getTransfer(server, token, transfer.id))?.status).toBe(expected);
    }
    expect(await postSinch(door("sinch"), report(providerMessageId, phone, "READ"))).toEqual(duplicate);
    expect((await receipts(transfer.id)).map((event) => [event.event, event.source, event.messageId])).toEqual([
      ["QUEUED", "sinch", messageId],
      ["DELIVERED", "sinch", messageId],
      ["READ", "sinch", messageId],
    ]);
  });

  it("FAILED keeps Sinch's reason and fails the message", async () => {
    const { transfer, phone, messageId, providerMessageId } = await sent();
    const reason = { code: "RECIPIENT_NOT_REACHABLE", description: "The underlying channel reported: not reachable", sub_code: "UNSPECIFIED_SUB_CODE" };
    expect(await postSinch(door("sinch"), report(providerMessageId, phone, "FAILED", { reason }))).toEqual(stored());
    const [failed] = await receipts(transfer.id);
    expect(failed).toMatchObject({ event: "FAILED", messageId, metadata: { status: "FAILED", reason } });
  });

  it("an inbound STOP from the recipient is an OPT_OUT on their latest transfer", async () => {
    const { transfer, phone } = await sent();
    const inbound = {
      app_id: "01E3S8B6YCMRNR0GGM94H80ACX",
      accepted_time: new Date().toISOString(),
      message: {
        id: `01E6${randomBytes(8).toString("hex").toUpperCase()}`,
        direction: "TO_APP",
        contact_message: { text_message: { text: "STOP" } },
        channel_identity: { channel: "RCS", identity: bare(phone), app_id: "01E3S8B6YCMRNR0GGM94H80ACX" },
        accept_time: new Date().toISOString(),
      },
    };
    expect(await postSinch(door("sinch"), inbound)).toEqual(stored());
    expect((await receipts(transfer.id)).map((event) => [event.event, event.channel, event.source])).toEqual([["OPT_OUT", "RCS", "sinch"]]);
  });
});

describe("Infobip: accepted through /webhooks/infobip", () => {
  const result = (messageId: string, phone: string, status: Record<string, unknown>, error?: Record<string, unknown>) => ({
    bulkId: "bulk-1",
    messageId,
    to: bare(phone),
    sentAt: new Date().toISOString().replace("Z", "+0000"),
    doneAt: new Date().toISOString().replace("Z", "+0000"),
    messageCount: 1,
    status,
    error: error ?? { groupId: 0, groupName: "OK", id: 0, name: "NO_ERROR", description: "No Error", permanent: false },
  });
  const deliveredStatus = { groupId: 3, groupName: "DELIVERED", id: 5, name: "DELIVERED_TO_HANDSET", description: "Message delivered to handset" };

  it("a batch of two reports becomes two events, each on its own transfer; a seen report marks READ", async () => {
    const first = await sent();
    const second = await sent();
    const undeliverable = { groupId: 2, groupName: "UNDELIVERABLE", id: 9, name: "UNDELIVERABLE_NOT_DELIVERED", description: "Message sent not delivered" };
    const absent = { groupId: 1, groupName: "HANDSET_ERRORS", id: 27, name: "EC_ABSENT_SUBSCRIBER", description: "Absent Subscriber", permanent: false };
    const batch = {
      results: [
        result(first.providerMessageId, first.phone, deliveredStatus),
        result(second.providerMessageId, second.phone, undeliverable, absent),
      ],
    };
    expect(await postInfobip(door("infobip"), batch)).toEqual(stored(2));
    expect((await getTransfer(server, token, first.transfer.id))?.status).toBe("DELIVERED");
    expect((await receipts(second.transfer.id)).map((event) => [event.event, event.messageId, event.metadata])).toEqual([
      ["FAILED", second.messageId, { status: "UNDELIVERABLE_NOT_DELIVERED", status_group: "UNDELIVERABLE", error: absent }],
    ]);
    // Infobip retries the whole batch: both are duplicates.
    expect(await postInfobip(door("infobip"), batch)).toEqual({ status: 200, body: { received: 2, stored: 0, duplicates: 2 } });

    const seen = { results: [{ messageId: first.providerMessageId, from: bare(first.phone), to: "DemoSender", seenAt: new Date().toISOString() }] };
    expect(await postInfobip(door("infobip"), seen)).toEqual(stored());
    expect((await getTransfer(server, token, first.transfer.id))?.status).toBe("READ");
    expect((await receipts(first.transfer.id)).map((event) => [event.event, event.source, event.messageId])).toEqual([
      ["DELIVERED", "infobip", first.messageId],
      ["READ", "infobip", first.messageId],
    ]);
  });

  it("an inbound SMS from the recipient is a REPLY on their latest transfer", async () => {
    const { transfer, phone } = await sent();
    const inbound = {
      results: [{ messageId: randomUUID(), from: bare(phone), to: "385921004026", text: "Got it, thanks", receivedAt: new Date().toISOString(), smsCount: 1 }],
      messageCount: 1,
      pendingMessageCount: 0,
    };
    expect(await postInfobip(door("infobip"), inbound)).toEqual(stored());
    expect((await receipts(transfer.id)).map((event) => [event.event, event.channel, event.metadata])).toEqual([["REPLY", "SMS", { kind: "text", text: "Got it, thanks" }]]);
  });
});

describe("RBM, Sinch and Infobip: refused deliveries store nothing", () => {
  let target: Awaited<ReturnType<typeof sent>>;
  beforeAll(async () => {
    target = await sent();
  });
  afterAll(async () => {
    if (!target) return;
    expect(await receipts(target.transfer.id)).toEqual([]);
    expect((await getTransfer(server, token, target.transfer.id))?.status).toBe("QUEUED");
  });

  const rbmDelivered = () => ({ senderPhoneNumber: target.phone, eventType: "DELIVERED", eventId: randomUUID(), messageId: target.providerMessageId });
  const sinchDelivered = () => ({
    app_id: "app",
    event_time: new Date().toISOString(),
    message_delivery_report: { message_id: target.providerMessageId, status: "DELIVERED", channel_identity: { channel: "RCS", identity: bare(target.phone) } },
  });
  const infobipDelivered = () => ({
    results: [{ messageId: target.providerMessageId, doneAt: new Date().toISOString(), status: { groupId: 3, groupName: "DELIVERED", id: 5, name: "DELIVERED_TO_HANDSET" } }],
  });

  it("RBM: a bad, missing or envelope-wide signature, or another client token's handshake → 401", async () => {
    expectRejected(await postRbm(door("rbm"), rbmDelivered(), "another-client-token"), 401);
    const { body, data } = rbmEnvelope(rbmDelivered());
    expectRejected(await postTo(door("rbm"), body, {}), 401, /X-Goog-Signature/);
    expectRejected(await postTo(door("rbm"), body, { "x-goog-signature": rbmSignature(Buffer.from(body)) }), 401);
    expectRejected(await postTo(door("rbm"), body, { "x-goog-signature": `${rbmSignature(data)}AA` }), 401);
    const handshake = await postTo(door("rbm"), JSON.stringify({ clientToken: "SJENCPGJESMGUFPX", secret: "1234567890" }), {});
    expectRejected(handshake, 401);
    expect(JSON.stringify(handshake.body)).not.toContain("1234567890");
  });

  it("Sinch: another secret, a tampered body or a stale timestamp → 401", async () => {
    expectRejected(await postSinch(door("sinch"), sinchDelivered(), { secret: "another-secret" }), 401);
    const body = JSON.stringify(sinchDelivered());
    expectRejected(await postTo(door("sinch"), body.replace("DELIVERED", "READ"), sinchHeaders(body)), 401);
    expectRejected(await postSinch(door("sinch"), sinchDelivered(), { timestamp: Math.floor(Date.now() / 1000) - 600 }), 401, /tolerance/);
  });

  it("Infobip: wrong credentials, or none → 401", async () => {
    expectRejected(await postInfobip(door("infobip"), infobipDelivered(), "infobip:wrong"), 401);
    expectRejected(await postTo(door("infobip"), JSON.stringify(infobipDelivered()), {}), 401);
  });

  it("malformed, correctly signed → 400 naming the problem", async () => {
    const garbage = Buffer.from("{not json");
    const rbmGarbage = JSON.stringify({ message: { data: garbage.toString("base64"), messageId: "1" } });
    expectRejected(await postTo(door("rbm"), rbmGarbage, { "x-goog-signature": rbmSignature(garbage) }), 400, /message\.data/);
    expectRejected(await postRbm(door("rbm"), { ...rbmDelivered(), eventType: "EXPLODED" }), 400, /EXPLODED/);
    const sinchReport = sinchDelivered();
    expectRejected(await postSinch(door("sinch"), { ...sinchReport, message_delivery_report: { ...sinchReport.message_delivery_report, status: "EVAPORATED" } }), 400, /EVAPORATED/);
    expectRejected(await postTo(door("sinch"), "{not json", sinchHeaders("{not json")), 400, /JSON/);
    const [item] = infobipDelivered().results;
    expectRejected(await postInfobip(door("infobip"), { results: [item, { ...item, status: { ...item!.status, groupId: 9 } }] }), 400, /results\.1\.status\.groupId/);
    expectRejected(await postTo(door("infobip"), "[]", { authorization: basicAuthorization("infobip:s3cret-pass") }), 400);
  });
});
