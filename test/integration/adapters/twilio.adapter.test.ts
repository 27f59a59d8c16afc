import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createTwilioAdapter, type TwilioAdapterOptions } from "../../../src/delivery/twilio.adapter.js";
import { startFakeTwilio, type TwilioFakeReply } from "../../helpers/fake-twilio.js";
import { sendRequest } from "../../helpers/send-request.js";

const ACCOUNT_SID = `AC${"0123456789abcdef".repeat(2)}`;
const AUTH_TOKEN = "twilio-test-auth-token";
const CALLBACK = "https://ackline.example.test/webhooks/twilio";

describe("Twilio Programmable Messaging adapter (against a local fake of the Messages API)", () => {
  let fake: Awaited<ReturnType<typeof startFakeTwilio>>;
  let nextReply: ((form: Record<string, string>, attempt: number) => TwilioFakeReply | undefined) | undefined;

  beforeAll(async () => {
    fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, reply: (form, attempt) => nextReply?.(form, attempt) });
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    nextReply = undefined;
  });

  const adapter = (options: Partial<TwilioAdapterOptions> = {}) =>
    createTwilioAdapter({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: "+15005550006", rcsSender: "rcs:acme_transfers_agent", statusCallbackUrl: () => CALLBACK, baseUrl: fake.url, ...options });

  it("sends an SMS as Twilio expects: Basic auth, form body, From/To/Body/StatusCallback — and records the SID", async () => {
    const request = sendRequest("SMS");
    const outcome = await adapter().send(request);

    expect(fake.requests).toHaveLength(1);
    const received = fake.requests[0]!;
    expect(received.method).toBe("POST");
    expect(received.path).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(received.authorization).toBe(`Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64")}`);
    expect(received.contentType).toBe("application/x-www-form-urlencoded");
    expect(Object.keys(received.form).sort()).toEqual(["Body", "From", "StatusCallback", "To"]);
    expect(received.form.To).toBe("+447700900123");
    expect(received.form.From).toBe("+15005550006");
    expect(received.form.StatusCallback).toBe(`${CALLBACK}?client_message_id=${request.message.clientMessageId}`);
    // The text names the sender and the file, carries the signed link and the expiry.
    expect(received.form.Body).toContain("Ada Lovelace");
    expect(received.form.Body).toContain("analytical-engine-notes.pdf");
    expect(received.form.Body).toContain(request.link);
    expect(received.form.Body).toContain("2026-01-24 15:04 UTC");

    expect(received.status).toBe(201);
    expect(outcome).toEqual({ kind: "accepted", providerMessageId: received.sid, code: 201 });
    expect(received.sid).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it("with a Content Template (TWILIO_CONTENT_SID), RCS is the rich card: ContentSid and ContentVariables, no Body; SMS stays plain text", async () => {
    const contentSid = `HX${"ab".repeat(16)}`;
    const request = sendRequest("RCS");
    expect((await adapter({ contentSid }).send(request)).kind).toBe("accepted");
    const { form } = fake.requests[0]!;
    expect(Object.keys(form).sort()).toEqual(["ContentSid", "ContentVariables", "From", "StatusCallback", "To"]);
    expect(form.ContentSid).toBe(contentSid);
    const link = new URL(request.link);
    expect(JSON.parse(form.ContentVariables!)).toEqual({
      "1": "Ada Lovelace",
      "2": "analytical-engine-notes.pdf",
      "3": "2026-01-24 15:04 UTC",
      "4": `${link.pathname.slice(1)}${link.search}`,
      "5": request.transfer.id,
    });

    await adapter({ contentSid }).send(sendRequest("SMS"));
    expect(Object.keys(fake.requests[1]!.form).sort()).toEqual(["Body", "From", "StatusCallback", "To"]);
  });

  it("replies in the RCS conversation with a plain Body from the RCS sender, without a status callback", async () => {
    const outcome = await adapter().reply!({ phone: "+447700900123", text: "Verified: sent by Ada Lovelace.", clientRef: "verify_42" });
    expect(outcome.kind).toBe("accepted");
    expect(fake.requests[0]!.form).toEqual({ To: "rcs:+447700900123", From: "rcs:acme_transfers_agent", Body: "Verified: sent by Ada Lovelace." });
  });

  it("sends a download's one-time code as a plain SMS from the SMS number, without a status callback", async () => {
    const { transfer } = sendRequest("SMS");
    const outcome = await adapter().sendOtp!({ transfer, code: "493027", clientMessageId: "msg_otp1" });
    expect(outcome.kind).toBe("accepted");
    const { Body, ...routing } = fake.requests[0]!.form;
    expect(routing).toEqual({ To: transfer.recipientPhone, From: "+15005550006" });
    expect(Body).toMatch(/^493027 is your code to download "analytical-engine-notes\.pdf" from Ada Lovelace\./);
  });

  it("sends RCS directly: From is the rcs: sender, To the recipient's rcs: address (no Twilio-side fallback)", async () => {
    const outcome = await adapter({ rcsSender: "acme_transfers_agent" }).send(sendRequest("RCS"));
    expect(outcome.kind).toBe("accepted");
    const { form } = fake.requests[0]!;
    expect(form.To).toBe("rcs:+447700900123");
    expect(form.From).toBe("rcs:acme_transfers_agent");
    expect(form.MessagingServiceSid).toBeUndefined();
  });

  it("without an RCS sender, sends RCS through the Messaging Service (Twilio tries RCS first, then falls back itself)", async () => {
    const outcome = await adapter({ rcsSender: undefined, messagingServiceSid: "MG0123456789abcdef0123456789abcdef" }).send(sendRequest("RCS"));
    expect(outcome.kind).toBe("accepted");
    const { form } = fake.requests[0]!;
    expect(form.To).toBe("+447700900123");
    expect(form.MessagingServiceSid).toBe("MG0123456789abcdef0123456789abcdef");
    expect(form.From).toBeUndefined();
  });

  it("uses the Messaging Service for SMS when no From number is configured; no StatusCallback when none is configured", async () => {
    await adapter({ from: undefined, statusCallbackUrl: undefined, messagingServiceSid: "MG0123456789abcdef0123456789abcdef" }).send(sendRequest("SMS"));
    const { form } = fake.requests[0]!;
    expect(form.MessagingServiceSid).toBe("MG0123456789abcdef0123456789abcdef");
    expect(form.From).toBeUndefined();
    expect(form.StatusCallback).toBeUndefined();
  });

  it("refuses, without a request, a channel it has no sender for", async () => {
    const outcome = await adapter({ rcsSender: undefined, messagingServiceSid: undefined }).send(sendRequest("RCS"));
    expect(outcome).toMatchObject({ kind: "permanent", error: expect.stringContaining("no RCS sender") as string });
    expect(fake.requests).toHaveLength(0);
  });

  it("400 with error 21211 (invalid To) is permanent, not a fallback trigger", async () => {
    // The fake itself rejects a number that is not E.164, as Twilio does.
    const outcome = await adapter().send(sendRequest("SMS", { recipientPhone: "07700900123" }));
    expect(fake.requests[0]!.status).toBe(400);
    expect(outcome).toMatchObject({ kind: "permanent", code: 400, notCapable: false });
    expect(outcome.kind === "permanent" && outcome.error).toContain("21211");
  });

  it("400 with error 63106 on RCS (handset not RCS-capable) is permanent and notCapable — the SMS fallback trigger", async () => {
    nextReply = () => ({ status: 400, body: { code: 63106, message: "phone_number is not a RCS capable number", more_info: "https://www.twilio.com/docs/errors/63106", status: 400 } });
    const outcome = await adapter().send(sendRequest("RCS"));
    expect(outcome).toMatchObject({ kind: "permanent", code: 400, notCapable: true });
  });

  it("the same error code on SMS is not read as RCS capability", async () => {
    nextReply = () => ({ status: 400, body: { code: 63106, message: "phone_number is not a RCS capable number", status: 400 } });
    const outcome = await adapter().send(sendRequest("SMS"));
    expect(outcome).toMatchObject({ kind: "permanent", notCapable: false });
  });

  it("429 (error 20429) is transient and honours Retry-After in seconds", async () => {
    nextReply = () => ({ status: 429, headers: { "retry-after": "7" }, body: { code: 20429, message: "Too Many Requests", more_info: "https://www.twilio.com/docs/errors/20429", status: 429 } });
    const outcome = await adapter().send(sendRequest("SMS"));
    expect(outcome).toMatchObject({ kind: "transient", code: 429, retryAfterMs: 7000 });
  });

  it("429 with an HTTP-date Retry-After, and without one", async () => {
    nextReply = () => ({ status: 429, headers: { "retry-after": new Date(Date.now() + 30_000).toUTCString() }, body: { code: 20429, message: "Too Many Requests", status: 429 } });
    const dated = await adapter().send(sendRequest("SMS"));
    expect(dated.kind).toBe("transient");
    expect(dated.kind === "transient" && dated.retryAfterMs).toBeGreaterThan(25_000);
    nextReply = () => ({ status: 429, body: { code: 20429, message: "Too Many Requests", status: 429 } });
    const bare = await adapter().send(sendRequest("SMS"));
    expect(bare).toMatchObject({ kind: "transient", code: 429 });
    expect(bare.kind === "transient" && bare.retryAfterMs).toBeUndefined();
  });

  it("5xx is transient, JSON or not", async () => {
    nextReply = () => ({ status: 503, body: { code: 20500, message: "Service Unavailable", status: 503 } });
    expect(await adapter().send(sendRequest("SMS"))).toMatchObject({ kind: "transient", code: 503 });
    nextReply = () => ({ status: 502, body: "<html><body>Bad Gateway</body></html>" });
    const outcome = await adapter().send(sendRequest("SMS"));
    expect(outcome).toMatchObject({ kind: "transient", code: 502 });
    expect(outcome.kind === "transient" && outcome.error).toContain("Bad Gateway");
  });

  it("wrong credentials (401, error 20003) are permanent", async () => {
    const outcome = await adapter({ authToken: "not-the-token" }).send(sendRequest("SMS"));
    expect(fake.requests[0]!.status).toBe(401);
    expect(outcome).toMatchObject({ kind: "permanent", code: 401 });
    expect(outcome.kind === "permanent" && outcome.error).toContain("20003");
  });

  it("a 2xx without a sid is transient (the send cannot be correlated)", async () => {
    nextReply = () => ({ status: 201, body: { status: "queued" } });
    expect(await adapter().send(sendRequest("SMS"))).toMatchObject({ kind: "transient", code: 201 });
  });

  it("a refused connection is transient", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const outcome = await adapter({ baseUrl: `http://127.0.0.1:${port}` }).send(sendRequest("SMS"));
    expect(outcome).toMatchObject({ kind: "transient", error: expect.stringContaining("network error") as string });
  });
});
