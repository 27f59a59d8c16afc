import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { mailgunBody, mailgunSignature, postMailgun, postSendGrid, sendgridHeaders } from "../helpers/email-webhooks.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { ADMIN_DATABASE_URL, hasPostgres } from "../helpers/services.js";
import { createSnsSigner, postSns, snsNotification, snsSubscriptionConfirmation } from "../helpers/sns.js";
import { postWebhook, type PostResult } from "../helpers/webhooks.js";

/** The URLs a fetch spy was called with. */
const fetchedUrls = (fetch: { mock: { calls: Array<Parameters<typeof globalThis.fetch>> } }) =>
  fetch.mock.calls.map(([input]) => (typeof input === "string" ? input : input instanceof URL ? input.href : input.url));

/** Every refusal names its reason and stores nothing. */
function expectRejected(result: PostResult, status: number) {
  expect(result.status).toBe(status);
  expect(typeof result.body.error).toBe("string");
  expect(result.body).not.toHaveProperty("stored");
}

const signer = await createSnsSigner();
const nowSeconds = () => Math.floor(Date.now() / 1000);

const sendgridEvent = () => ({
  email: "someone@example.com",
  timestamp: nowSeconds() - 5,
  event: "delivered",
  sg_event_id: randomUUID(),
  sg_message_id: "nhIMmON9SFOPcT0ii4nt2A.filterdrecv-1.0",
});
const mailgunEvent = () => ({
  id: randomUUID(),
  event: "delivered",
  timestamp: Date.now() / 1000 - 5,
  recipient: "someone@example.com",
  message: { headers: { "message-id": "20180812211713.1.DF5966851B4BAA99@example.org" } },
});
const sesDelivery = {
  eventType: "Delivery",
  mail: { timestamp: new Date().toISOString(), messageId: "0100018d5f0a1b2c-3d4e5f60-7182-93a4-b5c6-d7e8f9a0b1c2-000000", destination: ["someone@example.com"] },
  delivery: { timestamp: new Date().toISOString(), recipients: ["someone@example.com"] },
};

describe("email webhooks — refused", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { SNS_CERTIFICATES: JSON.stringify(signer.certificates) } });
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("a bad signature is 401 at every email door", async () => {
    const body = JSON.stringify([sendgridEvent()]);
    const signed = sendgridHeaders(body);
    expectRejected(await postWebhook(server.url, "sendgrid", body.replace("delivered", "open"), signed), 401);
    expectRejected(await postWebhook(server.url, "sendgrid", body, {}), 401);

    expectRejected(await postMailgun(server.url, mailgunEvent(), mailgunSignature({ key: "not-the-signing-key" })), 401);
    expectRejected(await postMailgun(server.url, mailgunEvent(), { ...mailgunSignature(), token: "swapped-token" }), 401);

    const envelope = snsNotification(signer, sesDelivery);
    expectRejected(await postSns(server.url, { ...envelope, Message: JSON.stringify({ ...sesDelivery, eventType: "Bounce" }) }), 401);
    expectRejected(await postSns(server.url, snsNotification(await createSnsSigner(), sesDelivery)), 401);
  });

  it("a malformed but signed body is 400 with the reason", async () => {
    const notJson = "[{";
    expect(await postWebhook(server.url, "sendgrid", notJson, sendgridHeaders(notJson))).toEqual({ status: 400, body: { error: "body is not valid JSON" } });
    const unknown = JSON.stringify([{ ...sendgridEvent(), event: "teleported" }]);
    const refused = await postWebhook(server.url, "sendgrid", unknown, sendgridHeaders(unknown));
    expectRejected(refused, 400);
    expect(refused.body.error).toContain("teleported");

    const mailgunRefused = await postMailgun(server.url, { ...mailgunEvent(), event: "teleported" });
    expectRejected(mailgunRefused, 400);
    expect(mailgunRefused.body.error).toContain("teleported");

    const sesRefused = await postSns(server.url, snsNotification(signer, { eventType: "Delivery", mail: sesDelivery.mail }));
    expectRejected(sesRefused, 400);
    expect(sesRefused.body.error).toContain("delivery");
  });

  it("Mailgun: a signature token seen before is a replay, refused (401) even with a different body", async () => {
    const signature = mailgunSignature();
    const event = mailgunEvent();
    expect(await postMailgun(server.url, event, signature)).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
    const replay = await postMailgun(server.url, event, signature);
    expectRejected(replay, 401);
    expect(replay.body.error).toContain("replay");
    expectRejected(await postMailgun(server.url, { ...event, id: randomUUID(), event: "complained" }, signature), 401);
  });

  it("SES: a SubscriptionConfirmation for another topic is refused (401) and its SubscribeURL never visited", async () => {
    const fetch = vi.fn(globalThis.fetch);
    vi.stubGlobal("fetch", fetch);
    const foreign = snsSubscriptionConfirmation(signer, { topicArn: "arn:aws:sns:us-east-1:123456789012:someone-else" });
    expectRejected(await postSns(server.url, foreign), 401);
    expect(fetchedUrls(fetch)).not.toContainEqual(expect.stringContaining("amazonaws.com"));
  });

  it("SES: a certificate URL off SNS's hosts is refused (401) without a request", async () => {
    const fetch = vi.fn(globalThis.fetch);
    vi.stubGlobal("fetch", fetch);
    const elsewhere = snsNotification(signer, sesDelivery, { certificateUrl: "https://certificates.example/SimpleNotificationService-0123.pem" });
    expectRejected(await postSns(server.url, elsewhere), 401);
    expect(fetchedUrls(fetch)).not.toContainEqual(expect.stringContaining("certificates.example"));
  });
});

describe("email webhooks — fail closed", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { WEBHOOK_SENDGRID_PUBLIC_KEY: "", WEBHOOK_MAILGUN_SIGNING_KEY: "", WEBHOOK_SES_TOPIC_ARN: "", SNS_CERTIFICATES: JSON.stringify(signer.certificates) } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("refuses every delivery with 401 at a door whose secret is not configured, validly signed or not", async () => {
    expectRejected(await postSendGrid(server.url, [sendgridEvent()]), 401);
    expectRejected(await postMailgun(server.url, mailgunEvent()), 401);
    expectRejected(await postSns(server.url, snsNotification(signer, sesDelivery)), 401);
    expectRejected(await postSns(server.url, snsSubscriptionConfirmation(signer)), 401);
  });
});

describe.runIf(hasPostgres())("email webhooks — Mailgun's token through a database outage", () => {
  let server: TestServer;
  let admin: postgres.Sql;
  let databaseName: string;

  beforeAll(async () => {
    server = await startTestServer();
    admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
    databaseName = new URL(server.databaseUrl!).pathname.slice(1);
    expect(databaseName).toMatch(/^ackline_test_[0-9a-f]+$/);
  });
  afterAll(async () => {
    if (admin && databaseName) await admin.unsafe(`ALTER DATABASE ${databaseName} ALLOW_CONNECTIONS true`).catch(() => {});
    await admin?.end();
    await server?.close();
  });

  it("a delivery answered 503 has not spent its token: Mailgun's retry of it is accepted, and only then is it a replay", async () => {
    const body = mailgunBody(mailgunEvent());
    await admin.unsafe(`ALTER DATABASE ${databaseName} ALLOW_CONNECTIONS false`);
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${databaseName} AND pid <> pg_backend_pid()`;
    try {
      expectRejected(await postWebhook(server.url, "mailgun", body, {}), 503);
    } finally {
      await admin.unsafe(`ALTER DATABASE ${databaseName} ALLOW_CONNECTIONS true`);
    }
    let retried = await postWebhook(server.url, "mailgun", body, {});
    const deadline = Date.now() + 20_000;
    while (retried.status === 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      retried = await postWebhook(server.url, "mailgun", body, {});
    }
    expect(retried).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
    expectRejected(await postWebhook(server.url, "mailgun", body, {}), 401);
  });
});
