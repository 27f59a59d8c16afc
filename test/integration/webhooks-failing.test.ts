import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetTransferDocument } from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { graphql } from "../helpers/graphql.js";
import { startTestServer, TEST_ENABLEX_BASIC, TEST_RBM_CLIENT_TOKEN, tokenFor, type TestServer } from "../helpers/server.js";
import { ADMIN_DATABASE_URL, hasPostgres } from "../helpers/services.js";
import { getTransfer, history, sentTransfer } from "../helpers/transfers.js";
import {
  enablexAuthorization,
  genericSignature,
  postEnablex,
  postGeneric,
  postInfobip,
  postRbm,
  postSinch,
  postStandard,
  postTwilio,
  postVonage,
  postWebhook,
  standardHeaders,
  twilioSignature,
  vonageAuthorization,
  type PostResult,
} from "../helpers/webhooks.js";

type FakeCpaas = Awaited<ReturnType<typeof startFakeCpaas>>;

const nowSeconds = () => Math.floor(Date.now() / 1000);
const webhookId = () => `msg_${randomBytes(8).toString("hex")}`;

function expectRejected(result: PostResult, status: number, reason?: RegExp) {
  expect(result.status).toBe(status);
  expect(typeof result.body.error).toBe("string");
  if (reason) expect(result.body.error).toMatch(reason);
  // A rejection acknowledges nothing.
  expect(result.body).not.toHaveProperty("stored");
}

describe("webhook side-door — rejected deliveries", () => {
  let server: TestServer;
  let cpaas: FakeCpaas;
  let token: string;
  let target: Awaited<ReturnType<typeof sentTransfer>>;
  const phone = "+14165553001";

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url } });
    token = await tokenFor("acme");
    target = await sentTransfer(server, cpaas, token, phone);
  });
  afterAll(async () => {
    // Nothing any rejected request carried was stored or applied.
    if (server && target) {
      expect((await history(server, token, target.transfer.id)).filter((event) => event.source !== "ackline")).toEqual([]);
      expect((await getTransfer(server, token, target.transfer.id))?.status).toBe("QUEUED");
    }
    await server?.close();
    await cpaas?.close();
  });

  const genericPayload = () => ({ event: "message.read", timestamp: new Date().toISOString(), message_id: target.providerMessageId, channel: "rcs" });
  const enablexPayload = () => ({ phone, type: "message", message: { message_id: target.providerMessageId, status: "READ" }, timestamp: new Date().toISOString() });
  const standardPayload = () => ({
    transfer_id: target.transfer.id,
    message_id: target.messageId,
    channel: "rcs",
    event: "read",
    timestamp: new Date().toISOString(),
    provider: "cpaas@example",
  });
  const twilioParams = () => ({ MessageSid: target.providerMessageId, MessageStatus: "read", To: `rcs:${phone}`, From: "rcs:acme_agent" });
  const twilioUrl = () => `${server.url}/webhooks/twilio`;
  const vonagePayload = () => ({
    message_uuid: target.providerMessageId,
    to: phone.slice(1),
    from: "AckTransfersAgent",
    timestamp: new Date().toISOString(),
    status: "read",
    channel: "rcs",
  });
  const vonageUrl = () => `${server.url}/webhooks/vonage`;

  describe("bad credentials → 401", () => {
    it("generic: a signature made with another secret", async () => {
      expectRejected(await postGeneric(server.url, genericPayload(), "not-the-secret"), 401);
    });

    it("generic: a signature over other bytes (re-serialized JSON)", async () => {
      const payload = genericPayload();
      const body = JSON.stringify(payload, null, 2);
      expectRejected(await postWebhook(server.url, "generic", body, { "x-webhook-signature": genericSignature(JSON.stringify(payload)) }), 401);
    });

    it("generic: a signature of the wrong length does not crash the server (401, not 500)", async () => {
      const body = JSON.stringify(genericPayload());
      for (const signature of [genericSignature(body).slice(0, 10), `${genericSignature(body)}00`, "00"]) {
        expectRejected(await postWebhook(server.url, "generic", body, { "x-webhook-signature": signature }), 401);
      }
    });

    it("enablex: wrong password, wrong user, wrong scheme", async () => {
      expectRejected(await postEnablex(server.url, enablexPayload(), "enablex:wrong-pass"), 401);
      expectRejected(await postEnablex(server.url, enablexPayload(), "intruder:s3cret-pass"), 401);
      const body = JSON.stringify(enablexPayload());
      expectRejected(await postWebhook(server.url, "enablex", body, { authorization: `Bearer ${TEST_ENABLEX_BASIC}` }), 401);
    });

    it("standard: a signature made with another key", async () => {
      expectRejected(await postStandard(server.url, webhookId(), standardPayload(), { secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD" }), 401);
    });

    it("standard: a valid signature replayed under another webhook-id", async () => {
      const body = JSON.stringify(standardPayload());
      const headers = standardHeaders(webhookId(), body);
      expectRejected(await postWebhook(server.url, "standard", body, { ...headers, "webhook-id": webhookId() }), 401);
    });

    it("twilio: a signature made with another auth token, or over other parameters", async () => {
      expectRejected(await postTwilio(twilioUrl(), twilioParams(), { authToken: "not-the-token" }), 401);
      const body = new URLSearchParams({ ...twilioParams(), MessageStatus: "delivered" }).toString();
      const headers = { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilioSignature(twilioUrl(), twilioParams()) };
      expectRejected(await postWebhook(server.url, "twilio", body, headers), 401);
    });

    it("twilio: without PUBLIC_BASE_URL the signed URL is the one this server was called on — another host, scheme or query does not verify", async () => {
      const elsewhere = [
        "https://ackline.example.test/webhooks/twilio",
        twilioUrl().replace("http:", "https:"),
        `${twilioUrl()}?client_message_id=${target.messageId}`,
      ];
      for (const signedUrl of elsewhere) expectRejected(await postTwilio(twilioUrl(), twilioParams(), { signedUrl }), 401);
      // Control, for a SID no message has (stored unmatched, so the target stays untouched): the URL as called verifies.
      const control = await postTwilio(`${twilioUrl()}?client_message_id=msg_none`, { ...twilioParams(), MessageSid: `SM${randomBytes(16).toString("hex")}` });
      expect(control).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
    });

    it("vonage: a JWT signed with another secret, or carrying the payload_hash of another body", async () => {
      expectRejected(await postVonage(vonageUrl(), vonagePayload(), { secret: "not-the-secret" }), 401);
      const body = JSON.stringify(vonagePayload());
      const authorization = await vonageAuthorization(JSON.stringify({ ...vonagePayload(), status: "rejected" }));
      expectRejected(await postWebhook(server.url, "vonage", body, { authorization }), 401, /payload_hash/);
    });
  });

  describe("missing headers → 401", () => {
    it("generic without X-Webhook-Signature", async () => {
      expectRejected(await postWebhook(server.url, "generic", JSON.stringify(genericPayload()), {}), 401, /X-Webhook-Signature/i);
    });

    it("enablex without Authorization", async () => {
      expectRejected(await postWebhook(server.url, "enablex", JSON.stringify(enablexPayload()), {}), 401);
    });

    it.each(["webhook-id", "webhook-timestamp", "webhook-signature"])("standard without %s", async (missing) => {
      const body = JSON.stringify(standardPayload());
      const headers: Record<string, string> = standardHeaders(webhookId(), body);
      delete headers[missing];
      expectRejected(await postWebhook(server.url, "standard", body, headers), 401);
    });

    it("twilio without X-Twilio-Signature", async () => {
      const body = new URLSearchParams(twilioParams()).toString();
      expectRejected(await postWebhook(server.url, "twilio", body, { "content-type": "application/x-www-form-urlencoded" }), 401, /X-Twilio-Signature/);
    });

    it("vonage without Authorization is 503 with Retry-After, not 401: Vonage may send a callback unsigned after an internal error, and retries only 429 and 5xx", async () => {
      const response = await fetch(vonageUrl(), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(vonagePayload()) });
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(await response.json()).toEqual({ error: expect.stringMatching(/unsigned/) as string });
    });
  });

  describe("Standard Webhooks timestamp tolerance → 401", () => {
    it.each([
      ["more than 5 minutes old", -360],
      ["more than 5 minutes ahead", 360],
    ])("a correctly signed delivery %s", async (_case, offset) => {
      expectRejected(await postStandard(server.url, webhookId(), standardPayload(), { timestamp: nowSeconds() + offset }), 401, /tolerance/);
    });

    it("a timestamp in milliseconds is not Unix seconds", async () => {
      expectRejected(await postStandard(server.url, webhookId(), standardPayload(), { timestamp: Date.now() }), 401);
    });
  });

  describe("malformed bodies → 400 with a reason", () => {
    it("generic: correctly signed, not JSON", async () => {
      const body = '{"event": "message.read", ';
      expectRejected(await postWebhook(server.url, "generic", body, { "x-webhook-signature": genericSignature(body) }), 400, /JSON/);
    });

    it("generic: an unknown event names it", async () => {
      expectRejected(await postGeneric(server.url, { ...genericPayload(), event: "message.teleported" }), 400, /message\.teleported/);
    });

    it("generic: a message event without message_id", async () => {
      const { message_id: _id, ...payload } = genericPayload();
      expectRejected(await postGeneric(server.url, payload), 400, /message_id/);
    });

    it("enablex: authorized, not JSON", async () => {
      expectRejected(await postWebhook(server.url, "enablex", "<xml/>", { authorization: enablexAuthorization() }), 400, /JSON/);
    });

    it("enablex: an unknown type and a status outside SENT|DELIVERED|READ|FAILED|REVOKED", async () => {
      expectRejected(await postEnablex(server.url, { ...enablexPayload(), type: "reaction" }), 400, /type/);
      expectRejected(await postEnablex(server.url, { ...enablexPayload(), message: { message_id: target.providerMessageId, status: "BOUNCED" } }), 400, /status/);
    });

    it("twilio: correctly signed, an unknown MessageStatus names it; a WhatsApp address is not Ackline's", async () => {
      expectRejected(await postTwilio(twilioUrl(), { ...twilioParams(), MessageStatus: "teleported" }), 400, /teleported/);
      expectRejected(await postTwilio(twilioUrl(), { ...twilioParams(), To: `whatsapp:${phone}` }), 400, /whatsapp/);
    });

    it("vonage: correctly signed, not JSON, or an unknown status", async () => {
      const body = "<xml/>";
      expectRejected(await postWebhook(server.url, "vonage", body, { authorization: await vonageAuthorization(body) }), 400, /JSON/);
      expectRejected(await postVonage(vonageUrl(), { ...vonagePayload(), status: "evaporated" }), 400, /evaporated/);
    });

    it("standard: correctly signed, not JSON", async () => {
      const body = "not json at all";
      expectRejected(await postWebhook(server.url, "standard", body, standardHeaders(webhookId(), body)), 400, /JSON/);
    });

    it("standard: a canonical event without transfer_id, or with an unknown event", async () => {
      const { transfer_id: _transfer, ...withoutTransfer } = standardPayload();
      expectRejected(await postStandard(server.url, webhookId(), withoutTransfer), 400, /transfer_id/);
      expectRejected(await postStandard(server.url, webhookId(), { ...standardPayload(), event: "vaporized" }), 400, /vaporized/);
    });

    it("an empty body is 400 at every door", async () => {
      expectRejected(await postWebhook(server.url, "generic", "", { "x-webhook-signature": genericSignature("") }), 400);
      expectRejected(await postWebhook(server.url, "enablex", "", { authorization: enablexAuthorization() }), 400);
      expectRejected(await postWebhook(server.url, "standard", "", standardHeaders(webhookId(), "")), 400);
      expectRejected(await postTwilio(twilioUrl(), {}), 400);
      expectRejected(await postWebhook(server.url, "vonage", "", { authorization: await vonageAuthorization("") }), 400);
    });
  });

  describe("inputs the store cannot hold are refused (400), never 503: a 503 makes the provider retry forever", () => {
    it.each([
      // A Unix time in microseconds reads as milliseconds: a valid JavaScript date in the year ~55,000.
      ["a Unix time in microseconds", Date.now() * 1000],
      // A valid JavaScript date (year −10000) that timestamptz cannot represent.
      ["an ISO date in the year -10000", "-010000-01-01T00:00:00.000Z"],
    ])("a provider time outside any plausible range: %s", async (_case, timestamp) => {
      const result = await postGeneric(server.url, { ...genericPayload(), timestamp });
      expect(result.status).not.toBe(503);
      expectRejected(result, 400, /timestamp/);
    });

    it("a NUL character in an inbound message (jsonb and text cannot hold \\u0000)", async () => {
      const result = await postEnablex(server.url, {
        phone: "+14165553999",
        request_id: `req_${randomBytes(6).toString("hex")}`,
        type: "text",
        text: "hello\u0000world",
        timestamp: new Date().toISOString(),
      });
      // Refused as malformed with the reason, not "come back later".
      expectRejected(result, 400, /text.*cannot be stored/);
    });
  });

  it("a request the store refuses does not fail the requests committed beside it", async () => {
    const phoneWithoutTransfer = "+14165553998";
    const good = Array.from({ length: 6 }, (_, index) => ({
      phone: phoneWithoutTransfer,
      request_id: `req_good_${index}_${randomBytes(4).toString("hex")}`,
      type: "text",
      text: `fine ${index}`,
      timestamp: new Date().toISOString(),
    }));
    const poison = { ...good[0]!, request_id: `req_bad_${randomBytes(4).toString("hex")}`, text: "bad\u0000byte" };
    const results = await Promise.all([poison, ...good].map((payload) => postEnablex(server.url, payload)));
    for (const result of results.slice(1)) expect(result).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
  });

  it("an unknown provider is 404, whatever it carries", async () => {
    const result = await postWebhook(server.url, "twilio-nope", JSON.stringify(genericPayload()), {});
    expect(result.status).toBe(404);
    expect(result.body.error).toMatch(/twilio-nope/);
    expect((await postWebhook(server.url, "Generic", JSON.stringify(genericPayload()), {})).status).toBe(404);
  });

  it("the webhook raw-body parser does not leak into GraphQL (JSON still parsed there)", async () => {
    const result = await graphql(server.url, GetTransferDocument, { id: target.transfer.id }, token);
    expect(result.status).toBe(200);
    expect(result.body.data?.transfer?.id).toBe(target.transfer.id);
  });
});

describe("webhook side-door — body limit", () => {
  let server: TestServer;
  let cpaas: FakeCpaas;
  let token: string;

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, WEBHOOK_BODY_LIMIT: "2048" } });
    token = await tokenFor("acme");
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
  });

  it("answers 413 above WEBHOOK_BODY_LIMIT at every door, stores nothing, and still takes bodies under it", async () => {
    const { transfer, messageId, providerMessageId } = await sentTransfer(server, cpaas, token, "+14165553002");
    const padding = "x".repeat(3000);
    const big = await postGeneric(server.url, { event: "message.delivered", timestamp: new Date().toISOString(), message_id: providerMessageId, metadata: { padding } });
    expect(big.status).toBe(413);
    const bigEnablex = await postEnablex(server.url, {
      phone: "+14165553002",
      type: "message",
      message: { message_id: providerMessageId, status: "DELIVERED", failure_reason: padding },
      timestamp: new Date().toISOString(),
    });
    expect(bigEnablex.status).toBe(413);
    const bigStandard = await postStandard(server.url, webhookId(), {
      transfer_id: transfer.id,
      message_id: messageId,
      channel: "rcs",
      event: "delivered",
      timestamp: new Date().toISOString(),
      provider: "cpaas@example",
      metadata: { padding },
    });
    expect(bigStandard.status).toBe(413);
    expect((await history(server, token, transfer.id)).filter((event) => event.source !== "ackline")).toEqual([]);
    expect((await getTransfer(server, token, transfer.id))?.status).toBe("QUEUED");

    const small = await postGeneric(server.url, {
      event: "message.delivered",
      timestamp: new Date().toISOString(),
      message_id: providerMessageId,
      metadata: { padding: "x".repeat(1500) },
    });
    expect(small).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
    expect((await getTransfer(server, token, transfer.id))?.status).toBe("DELIVERED");
  });
});

describe("webhook side-door — fail closed", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        WEBHOOK_ENABLEX_BASIC: "",
        WEBHOOK_STANDARD_SECRET: "",
        TWILIO_AUTH_TOKEN: "",
        VONAGE_SIGNATURE_SECRET: "",
        WEBHOOK_RBM_CLIENT_TOKEN: "",
        WEBHOOK_SINCH_SECRET: "",
        WEBHOOK_INFOBIP_BASIC: "",
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("refuses the EnableX door with 401 when its credentials are not configured", async () => {
    const payload = { phone: "+14165553003", type: "message", message: { message_id: "pm_1", status: "DELIVERED" }, timestamp: new Date().toISOString() };
    expectRejected(await postEnablex(server.url, payload), 401);
    expectRejected(await postEnablex(server.url, payload, ":"), 401);
    expectRejected(await postWebhook(server.url, "enablex", JSON.stringify(payload), { authorization: "Basic " }), 401);
  });

  it("refuses the Standard door with 401 when its secret is not configured", async () => {
    const payload = { transfer_id: "tx_1", message_id: "msg_1", channel: "rcs", event: "delivered", timestamp: new Date().toISOString(), provider: "p" };
    expectRejected(await postStandard(server.url, webhookId(), payload), 401);
    expectRejected(await postStandard(server.url, webhookId(), payload, { secret: "whsec_" }), 401);
  });

  it("refuses the Twilio door with 401 when no auth token is configured", async () => {
    const params = { MessageSid: "SM1", MessageStatus: "delivered", To: "+14165553003" };
    const url = `${server.url}/webhooks/twilio`;
    expectRejected(await postTwilio(url, params), 401);
    expectRejected(await postTwilio(url, params, { authToken: "" }), 401);
  });

  it("refuses the Vonage door with 401 when no signature secret is configured, signed or not", async () => {
    const payload = { message_uuid: "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab", timestamp: new Date().toISOString(), status: "delivered", channel: "sms" };
    const url = `${server.url}/webhooks/vonage`;
    expectRejected(await postVonage(url, payload), 401);
    expectRejected(await postWebhook(server.url, "vonage", JSON.stringify(payload), {}), 401);
  });

  it("refuses the RBM, Sinch and Infobip doors with 401 when their secrets are not configured, the RBM set-up handshake included", async () => {
    const rbmEvent = { senderPhoneNumber: "+14165553003", eventType: "DELIVERED", eventId: "ev_1", messageId: "pm_1" };
    expectRejected(await postRbm(`${server.url}/webhooks/rbm`, rbmEvent), 401);
    expectRejected(await postRbm(`${server.url}/webhooks/rbm`, rbmEvent, ""), 401);
    expectRejected(await postWebhook(server.url, "rbm", JSON.stringify({ clientToken: TEST_RBM_CLIENT_TOKEN, secret: "1234567890" }), {}), 401);
    const sinchReport = { app_id: "app", message_delivery_report: { message_id: "pm_1", status: "DELIVERED", channel_identity: { channel: "RCS", identity: "14165553003" } } };
    expectRejected(await postSinch(`${server.url}/webhooks/sinch`, sinchReport), 401);
    expectRejected(await postSinch(`${server.url}/webhooks/sinch`, sinchReport, { secret: "" }), 401);
    const infobipReport = { results: [{ messageId: "pm_1", status: { groupId: 3, groupName: "DELIVERED", id: 5, name: "DELIVERED_TO_HANDSET" } }] };
    expectRejected(await postInfobip(`${server.url}/webhooks/infobip`, infobipReport), 401);
    expectRejected(await postInfobip(`${server.url}/webhooks/infobip`, infobipReport, ":"), 401);
  });

  it("still serves the configured generic door", async () => {
    const result = await postGeneric(server.url, { event: "message.sent", timestamp: new Date().toISOString(), message_id: `pm_${randomBytes(4).toString("hex")}` });
    expect(result).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
  });
});

describe("webhook side-door — fail closed without a generic secret", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { WEBHOOK_GENERIC_SECRET: "" } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("refuses receipts signed with any secret the sender could know", async () => {
    const payload = { event: "message.sent", timestamp: new Date().toISOString(), message_id: "pm_1" };
    expectRejected(await postGeneric(server.url, payload), 401);
    expectRejected(await postGeneric(server.url, payload, ""), 401);
  });
});

describe.runIf(hasPostgres())("webhook side-door — database outage", () => {
  let server: TestServer;
  let cpaas: FakeCpaas;
  let token: string;
  let admin: postgres.Sql;
  let databaseName: string;

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, DATABASE_REQUEST_TIMEOUT_MS: "2000" } });
    token = await tokenFor("acme");
    admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
    databaseName = new URL(server.databaseUrl!).pathname.slice(1);
    expect(databaseName).toMatch(/^ackline_test_[0-9a-f]+$/);
  });
  afterAll(async () => {
    if (admin && databaseName) await admin.unsafe(`ALTER DATABASE ${databaseName} ALLOW_CONNECTIONS true`).catch(() => {});
    await admin?.end();
    await server?.close();
    await cpaas?.close();
  });

  async function cutOff() {
    await admin.unsafe(`ALTER DATABASE ${databaseName} ALLOW_CONNECTIONS false`);
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${databaseName} AND pid <> pg_backend_pid()`;
  }

  it("answers 503 with Retry-After while the store is down, and stores each retried delivery exactly once afterwards", async () => {
    const phone = "+14165553004";
    const { transfer, messageId, providerMessageId } = await sentTransfer(server, cpaas, token, phone);
    const deliveredAt = new Date(Date.now() - 3000).toISOString();
    const readAt = new Date(Date.now() - 2000).toISOString();
    const clickedAt = new Date(Date.now() - 1000).toISOString();
    const standardId = webhookId();
    const deliveries = {
      generic: () => postGeneric(server.url, { event: "message.delivered", timestamp: deliveredAt, message_id: providerMessageId, channel: "rcs" }),
      enablex: () => postEnablex(server.url, { phone, type: "message", message: { message_id: providerMessageId, status: "READ" }, timestamp: readAt }),
      standard: () =>
        postStandard(server.url, standardId, {
          transfer_id: transfer.id,
          message_id: messageId,
          channel: "rcs",
          event: "action",
          timestamp: clickedAt,
          provider: "cpaas@example",
        }),
    };

    await cutOff();
    try {
      for (const [door, deliver] of Object.entries(deliveries)) {
        const result = await deliver();
        expect(result.status, door).toBe(503);
        expect(typeof result.body.error, door).toBe("string");
        expect(result.body, door).not.toHaveProperty("stored");
      }
      const body = JSON.stringify({ event: "message.sent", timestamp: new Date().toISOString(), message_id: providerMessageId });
      const raw = await fetch(`${server.url}/webhooks/generic`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-webhook-signature": genericSignature(body) },
        body,
      });
      expect(raw.status).toBe(503);
      expect(raw.headers.get("retry-after")).toMatch(/^\d+$/);
      await raw.text();
    } finally {
      await admin.unsafe(`ALTER DATABASE ${databaseName} ALLOW_CONNECTIONS true`);
    }

    // The provider retries: each delivery is now stored once, as if the outage never happened.
    for (const [door, deliver] of Object.entries(deliveries)) {
      let result = await deliver();
      const deadline = Date.now() + 20_000;
      while (result.status === 503 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        result = await deliver();
      }
      expect(result, door).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
      expect((await deliver()).body, door).toEqual({ received: 1, stored: 0, duplicates: 1 });
    }
    const events = (await history(server, token, transfer.id)).filter((event) => event.source !== "ackline");
    expect(events.map((event) => [event.event, event.source])).toEqual([
      ["DELIVERED", "generic"],
      ["READ", "enablex"],
      ["ACTION", "standard"],
    ]);
    expect((await getTransfer(server, token, transfer.id))?.status).toBe("READ");
  });

  it("answers 503 (not 200, not a hang) once its database is gone", async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    const results = await Promise.all([
      postGeneric(server.url, { event: "message.read", timestamp: new Date().toISOString(), message_id: "pm_gone" }),
      postEnablex(server.url, { phone: "+14165553005", type: "message", message: { message_id: "pm_gone", status: "READ" }, timestamp: new Date().toISOString() }),
      postStandard(server.url, webhookId(), {
        transfer_id: "tx_gone",
        message_id: "msg_gone",
        channel: "rcs",
        event: "read",
        timestamp: new Date().toISOString(),
        provider: "p",
      }),
    ]);
    for (const result of results) {
      expect(result.status).toBe(503);
      expect(result.body).not.toHaveProperty("stored");
    }
  });
});
