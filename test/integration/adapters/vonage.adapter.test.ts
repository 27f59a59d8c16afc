import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createVonageAdapter, vonageNumber, type VonageAdapterOptions } from "../../../src/delivery/vonage.adapter.js";
import { startFakeVonage, type VonageFakeReply } from "../../helpers/fake-vonage.js";
import { sendRequest } from "../../helpers/send-request.js";

const API_KEY = "abcd1234";
const API_SECRET = "vonage-test-secret";
const APPLICATION_ID = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
const WEBHOOK = "https://ackline.example.test/webhooks/vonage";
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PRIVATE_KEY_PEM = privateKey.export({ type: "pkcs8", format: "pem" }).toString();

describe("Vonage Messages API adapter (against a local fake of POST /v1/messages)", () => {
  let fake: Awaited<ReturnType<typeof startFakeVonage>>;
  let nextReply: ((body: Record<string, unknown>, attempt: number) => VonageFakeReply | undefined) | undefined;

  beforeAll(async () => {
    fake = await startFakeVonage({ apiKey: API_KEY, apiSecret: API_SECRET, applicationId: APPLICATION_ID, publicKey, reply: (body, attempt) => nextReply?.(body, attempt) });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    nextReply = undefined;
  });

  const basic = (options: Partial<VonageAdapterOptions> = {}) =>
    createVonageAdapter({ auth: { apiKey: API_KEY, apiSecret: API_SECRET }, smsFrom: "+447700900001", rcsFrom: "AckTransfersAgent", statusWebhookUrl: () => WEBHOOK, baseUrl: fake.url, ...options });
  const jwt = (options: Partial<VonageAdapterOptions> = {}) =>
    basic({ auth: { applicationId: APPLICATION_ID, privateKey: PRIVATE_KEY_PEM }, ...options });

  it("sends an SMS as Vonage expects: Basic auth, JSON text message, client_ref = client message id — and records message_uuid", async () => {
    const request = sendRequest("SMS");
    const outcome = await basic().send(request);

    expect(fake.requests).toHaveLength(1);
    const received = fake.requests[0]!;
    expect(received.method).toBe("POST");
    expect(received.path).toBe("/v1/messages");
    expect(received.auth).toEqual({ kind: "basic", apiKey: API_KEY });
    expect(received.contentType).toBe("application/json");
    expect(received.body).toEqual({
      message_type: "text",
      text: expect.any(String) as string,
      to: "447700900123",
      from: "447700900001",
      channel: "sms",
      client_ref: request.message.clientMessageId,
      webhook_url: WEBHOOK,
      webhook_version: "v1",
    });
    const text = received.body!.text as string;
    expect(text).toContain("Ada Lovelace");
    expect(text).toContain("analytical-engine-notes.pdf");
    expect(text).toContain(request.link);
    expect(text).toContain("2026-01-24 15:04 UTC");

    expect(received.status).toBe(202);
    expect(outcome).toEqual({ kind: "accepted", providerMessageId: received.messageUuid, code: 202 });
  });

  it("sends RCS with an application JWT (RS256, application_id, iat, jti, exp) from the RCS agent", async () => {
    const adapter = jwt();
    const outcome = await adapter.send(sendRequest("RCS"));
    expect(outcome.kind).toBe("accepted");
    const received = fake.requests[0]!;
    expect(received.auth?.kind).toBe("jwt");
    const claims = received.auth?.kind === "jwt" ? received.auth.claims : {};
    expect(claims.application_id).toBe(APPLICATION_ID);
    expect(typeof claims.jti).toBe("string");
    expect(claims.exp! - claims.iat!).toBe(15 * 60);
    expect(received.body).toMatchObject({ channel: "rcs", from: "AckTransfersAgent", to: "447700900123", message_type: "custom" });

    // The token is reused while it is fresh, not minted per message.
    await adapter.send(sendRequest("SMS"));
    expect(fake.requests[1]!.authorization).toBe(received.authorization);
  });

  it("RCS is the seed's rich card (a custom message): Download opens the link, Verify ID is a suggested reply; SMS stays plain text", async () => {
    const request = sendRequest("RCS");
    expect((await jwt().send(request)).kind).toBe("accepted");
    const received = fake.requests[0]!;
    expect(received.body!.text).toBeUndefined();
    const { cardContent } = (received.body!.custom as { contentMessage: { richCard: { standaloneCard: { cardOrientation: string; cardContent: Record<string, unknown> } } } }).contentMessage.richCard.standaloneCard;
    expect(cardContent.title).toBe("Ada Lovelace sent you a file");
    expect(cardContent.description).toContain("analytical-engine-notes.pdf");
    expect(cardContent.description).toContain("2026-01-24 15:04 UTC");
    expect(cardContent.suggestions).toEqual([
      { action: { text: "Download", postbackData: `download:${request.transfer.id}`, openUrlAction: { url: request.link } } },
      { reply: { text: "Verify ID", postbackData: `verify:${request.transfer.id}` } },
    ]);

    await jwt().send(sendRequest("SMS"));
    expect(fake.requests[1]!.body).toMatchObject({ channel: "sms", message_type: "text" });
    expect(fake.requests[1]!.body!.custom).toBeUndefined();
  });

  it("sends a download's one-time code as a plain SMS from the SMS sender, client_ref = its id", async () => {
    const { transfer } = sendRequest("SMS");
    const outcome = await basic().sendOtp!({ transfer, code: "493027", clientMessageId: "msg_otp1" });
    expect(outcome.kind).toBe("accepted");
    expect(fake.requests[0]!.body).toMatchObject({ message_type: "text", channel: "sms", to: "447700900123", from: "447700900001", client_ref: "msg_otp1" });
    expect(fake.requests[0]!.body!.text).toMatch(/^493027 is your code to download "analytical-engine-notes\.pdf" from Ada Lovelace\./);
  });

  it("replies in the RCS conversation with plain text from the RCS agent", async () => {
    const outcome = await jwt().reply!({ phone: "+447700900123", text: "Verified: sent by Ada Lovelace.", clientRef: "verify_42" });
    expect(outcome.kind).toBe("accepted");
    expect(fake.requests[0]!.body).toEqual({ message_type: "text", text: "Verified: sent by Ada Lovelace.", to: "447700900123", from: "AckTransfersAgent", channel: "rcs", client_ref: "verify_42" });
  });

  it("revokes an accepted RCS message: PATCH /v1/messages/{uuid} with status revoked, under the application JWT", async () => {
    const adapter = jwt();
    const sent = await adapter.send(sendRequest("RCS"));
    const uuid = sent.kind === "accepted" ? sent.providerMessageId : "";
    expect(await adapter.revoke!({ channel: "RCS", providerMessageId: uuid })).toEqual({ revoked: true, code: 200 });
    const patch = fake.requests[1]!;
    expect(patch).toMatchObject({ method: "PATCH", path: `/v1/messages/${uuid}`, body: { status: "revoked" }, status: 200 });
    expect(patch.auth?.kind).toBe("jwt");
  });

  it("reports a refused revocation, and asks nothing for SMS, which Vonage cannot revoke", async () => {
    const adapter = jwt();
    const refused = await adapter.revoke!({ channel: "RCS", providerMessageId: "00000000-0000-4000-8000-000000000000" });
    expect(refused).toMatchObject({ revoked: false, code: 404 });
    expect(refused.error).toMatch(/404/);
    expect(await adapter.revoke!({ channel: "SMS", providerMessageId: "whatever" })).toMatchObject({ revoked: false });
    expect(fake.requests).toHaveLength(1);
  });

  it("keeps an alphanumeric SMS sender as it is and omits webhook_url when none is configured", async () => {
    await basic({ smsFrom: "Ackline", statusWebhookUrl: undefined }).send(sendRequest("SMS"));
    const { body } = fake.requests[0]!;
    expect(body?.from).toBe("Ackline");
    expect(body).not.toHaveProperty("webhook_url");
    expect(body).not.toHaveProperty("webhook_version");
  });

  it("normalizes numbers to Vonage's E.164 without + or 00", () => {
    expect(vonageNumber("+447700900123")).toBe("447700900123");
    expect(vonageNumber("00447700900123")).toBe("447700900123");
    expect(vonageNumber("447700900123")).toBe("447700900123");
  });

  it("refuses, without a request, a channel it has no sender for", async () => {
    const outcome = await basic({ rcsFrom: undefined }).send(sendRequest("RCS"));
    expect(outcome).toMatchObject({ kind: "permanent", error: expect.stringContaining("no RCS sender") as string });
    expect(fake.requests).toHaveLength(0);
  });

  it("422 invalid parameters is permanent (the fake validates the body as the API does)", async () => {
    // A recipient the API refuses: the fake checks `to` is 7–15 digits.
    const outcome = await basic().send(sendRequest("SMS", { recipientPhone: "+12345" }));
    expect(fake.requests[0]!.status).toBe(422);
    expect(outcome).toMatchObject({ kind: "permanent", code: 422, notCapable: false });
    expect(outcome.kind === "permanent" && outcome.error).toContain("Invalid params");
  });

  it("429 is transient and honours Retry-After", async () => {
    nextReply = () => ({ status: 429, headers: { "retry-after": "3" }, body: { type: "https://developer.vonage.com/api-errors/messages#1000", title: "Throttled", detail: "You have exceeded the submission capacity allowed on this account. Please wait and retry", instance: "x" } });
    expect(await basic().send(sendRequest("SMS"))).toMatchObject({ kind: "transient", code: 429, retryAfterMs: 3000 });
  });

  it("a Throttled (1000) problem is transient whatever its HTTP status", async () => {
    nextReply = () => ({ status: 403, body: { type: "https://developer.vonage.com/api-errors/messages#1000", title: "Throttled", detail: "Please wait and retry", instance: "x" } });
    const outcome = await basic().send(sendRequest("SMS"));
    expect(outcome).toMatchObject({ kind: "transient", code: 403 });
    expect(outcome.kind === "transient" && outcome.error).toContain("1000");
  });

  it("5xx is transient, JSON or not", async () => {
    nextReply = () => ({ status: 500, body: { type: "https://developer.vonage.com/api-errors/messages#1030", title: "Internal error", detail: "There was an error processing your request in the Platform.", instance: "x" } });
    expect(await basic().send(sendRequest("SMS"))).toMatchObject({ kind: "transient", code: 500 });
    nextReply = () => ({ status: 504, body: "<html>Gateway Timeout</html>" });
    expect(await basic().send(sendRequest("SMS"))).toMatchObject({ kind: "transient", code: 504 });
  });

  it("402 low balance and 401 bad credentials are permanent", async () => {
    nextReply = () => ({ status: 402, body: { type: "https://developer.vonage.com/api-errors#low-balance", title: "Low balance", detail: "This request could not be performed due to your account balance being low.", instance: "x" } });
    expect(await basic().send(sendRequest("SMS"))).toMatchObject({ kind: "permanent", code: 402 });
    nextReply = undefined;
    const outcome = await basic({ auth: { apiKey: API_KEY, apiSecret: "wrong" } }).send(sendRequest("SMS"));
    expect(fake.requests.at(-1)!.status).toBe(401);
    expect(outcome).toMatchObject({ kind: "permanent", code: 401 });
  });

  it("a JWT signed with another key is refused (401, permanent)", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const outcome = await jwt({ auth: { applicationId: APPLICATION_ID, privateKey: other } }).send(sendRequest("SMS"));
    expect(outcome).toMatchObject({ kind: "permanent", code: 401 });
  });

  it("an unusable private key is a permanent configuration error, sent nowhere", async () => {
    const outcome = await jwt({ auth: { applicationId: APPLICATION_ID, privateKey: "not a key" } }).send(sendRequest("SMS"));
    expect(outcome).toMatchObject({ kind: "permanent", error: expect.stringContaining("JWT") as string });
    expect(fake.requests).toHaveLength(0);
  });

  it("a 2xx without message_uuid is transient", async () => {
    nextReply = () => ({ status: 202, body: {} });
    expect(await basic().send(sendRequest("SMS"))).toMatchObject({ kind: "transient", code: 202 });
  });

  it("a refused connection is transient", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const outcome = await basic({ baseUrl: `http://127.0.0.1:${port}` }).send(sendRequest("SMS"));
    expect(outcome).toMatchObject({ kind: "transient", error: expect.stringContaining("network error") as string });
  });
});
