import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateTransferDocument,
  DeliveryPolicyDocument,
  type DeliveryPolicyInput,
  GetTransferDocument,
  ReceiptEventsDocument,
  RevokeTransferDocument,
  SetDeliveryPolicyDocument,
  type TransferFieldsFragment,
} from "../generated/graphql.js";
import { errorCodes, graphql } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { hasPostgres } from "../helpers/services.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { postEnablex } from "../helpers/webhooks.js";


/** The simulator's numbers pick its behaviour (see SCENARIOS): …0404 not RCS-capable, …0422 refused, …0410 fails after sending, …0000 never delivered. */
describe("per-tenant delivery policy and fallbacks", () => {
  let server: TestServer;

  /** A tenant of its own with this policy (the default when none is given). */
  const tenantWith = async (policy?: DeliveryPolicyInput) => {
    const token = await tokenFor(uniqueTenant("policy"));
    if (policy) {
      const set = await graphql(server.url, SetDeliveryPolicyDocument, { input: policy }, token);
      expect(set.body.errors).toBeUndefined();
    }
    return token;
  };
  const create = async (token: string, recipient: { phone?: string; email?: string }) => {
    const created = await graphql(server.url, CreateTransferDocument, { input: { recipient, fileName: "deed.pdf", fileSizeBytes: 4096, senderName: "Acme" } }, token);
    expect(created.body.errors).toBeUndefined();
    return created.body.data!.createTransfer;
  };
  const transferWhen = (token: string, id: string, done: (transfer: TransferFieldsFragment) => boolean, what: string) =>
    eventually(async () => {
      const transfer = (await graphql(server.url, GetTransferDocument, { id }, token)).body.data?.transfer;
      return transfer && done(transfer) ? transfer : undefined;
    }, what);
  const queuedEvents = async (token: string, transferId: string) => {
    const events = await graphql(server.url, ReceiptEventsDocument, { filter: { transferId, event: "QUEUED" }, first: 20 }, token);
    return events.body.data!.receiptEvents.edges.map((edge) => edge.node);
  };

  beforeAll(async () => {
    server = await startTestServer({ env: { SIMULATOR_STEP_MS: "30" } });
  });
  afterAll(async () => {
    await server?.close();
  });

  describe("succeeding", () => {
    it("reads the default policy until one is set, then the stored one, for that tenant only", async () => {
      const token = await tenantWith();
      const defaults = (await graphql(server.url, DeliveryPolicyDocument, {}, token)).body.data!.deliveryPolicy;
      expect(defaults).toEqual({
        fallbackToSms: true,
        fallbackAfterMinutes: 15,
        emailCopy: "ALWAYS",
        rcsDelayMinutes: 0,
        checkRcsCapability: true,
        updatedBy: null,
        updatedAt: null,
      });

      const set = await graphql(server.url, SetDeliveryPolicyDocument, { input: { fallbackAfterMinutes: null, emailCopy: "ON_FAILURE" } }, token);
      // Fields left out take their defaults; an explicit null means "fall back only on failure".
      expect(set.body.data!.setDeliveryPolicy).toMatchObject({ fallbackToSms: true, fallbackAfterMinutes: null, emailCopy: "ON_FAILURE", rcsDelayMinutes: 0 });
      expect(set.body.data!.setDeliveryPolicy.updatedBy).toEqual(expect.any(String));
      const read = (await graphql(server.url, DeliveryPolicyDocument, {}, token)).body.data!.deliveryPolicy;
      expect(read).toEqual(set.body.data!.setDeliveryPolicy);

      const otherTenant = await tenantWith();
      expect((await graphql(server.url, DeliveryPolicyDocument, {}, otherTenant)).body.data!.deliveryPolicy.emailCopy).toBe("ALWAYS");
    });

    it("asks the provider whether the phone is RCS-capable, and falls back to a linked SMS with the reason", async () => {
      const token = await tenantWith();
      const transfer = await create(token, { phone: "+14165550404" });
      const read = await transferWhen(token, transfer.id, (t) => t.status === "READ", "the SMS fallback to be read");
      const [rcs, sms] = read.messages;
      expect(rcs).toMatchObject({ channel: "RCS", status: "FAILED", providerMessageId: null, fallbackOfMessageId: null });
      expect(rcs!.lastError).toMatch(/capability query/);
      expect(sms).toMatchObject({ channel: "SMS", status: "READ", fallbackOfMessageId: rcs!.id });
      expect(sms!.fallbackReason).toMatch(/^RCS failed: not RCS-capable/);

      const smsQueued = (await queuedEvents(token, transfer.id)).find((event) => event.messageId === sms!.id);
      expect(smsQueued!.metadata).toMatchObject({ fallback_of: rcs!.id, reason: sms!.fallbackReason });
    });

    it("without the capability check, the send's own 404 triggers the same fallback", async () => {
      const token = await tenantWith({ checkRcsCapability: false });
      const transfer = await create(token, { phone: "+14165550404" });
      const read = await transferWhen(token, transfer.id, (t) => t.status === "READ", "the SMS fallback to be read");
      const [rcs, sms] = read.messages;
      expect(rcs!.lastError).toMatch(/404/);
      expect(rcs!.deliveryAttempts).toEqual([expect.objectContaining({ outcome: "FAILED", code: 404 })]);
      expect(sms).toMatchObject({ channel: "SMS", status: "READ", fallbackOfMessageId: rcs!.id });
    });

    it("a permanent refusal skips retries and goes straight to the fallback; when that fails too the transfer fails", async () => {
      const token = await tenantWith();
      const transfer = await create(token, { phone: "+14165550422" });
      const failed = await transferWhen(token, transfer.id, (t) => t.status === "FAILED", "the transfer to fail");
      const [rcs, sms] = failed.messages;
      expect(failed.messages).toHaveLength(2);
      expect(rcs!.deliveryAttempts).toEqual([expect.objectContaining({ attempt: 1, outcome: "FAILED", code: 422 })]);
      expect(sms).toMatchObject({ channel: "SMS", status: "FAILED", fallbackOfMessageId: rcs!.id });
      expect(sms!.deliveryAttempts).toEqual([expect.objectContaining({ attempt: 1, outcome: "FAILED", code: 422 })]);
    });

    it("a failure reported by the provider's receipt after sending also falls back", async () => {
      const token = await tenantWith();
      const transfer = await create(token, { phone: "+14165550410" });
      const withFallback = await transferWhen(token, transfer.id, (t) => t.messages.length === 2 && t.messages[1]!.deliveryAttempts.length > 0, "the SMS fallback to be sent");
      const [rcs, sms] = withFallback.messages;
      expect(rcs).toMatchObject({ status: "FAILED" });
      expect(rcs!.providerMessageId).toEqual(expect.any(String));
      expect(sms).toMatchObject({ channel: "SMS", fallbackOfMessageId: rcs!.id });
      expect(sms!.fallbackReason).toMatch(/^RCS failed/);
    });

    it("a message the provider revoked (its TTL ran out) falls back; revoking the transfer itself never does", async () => {
      const token = await tenantWith();
      const transfer = await create(token, { phone: "+14165550000" });
      const accepted = await transferWhen(token, transfer.id, (t) => t.messages[0]!.providerMessageId !== null, "the RCS to be accepted");
      const revokedByProvider = await postEnablex(server.url, {
        phone: "+14165550000",
        type: "message",
        message: { message_id: accepted.messages[0]!.providerMessageId, status: "REVOKED", failure_reason: "ttl expired" },
        timestamp: new Date().toISOString(),
      });
      expect(revokedByProvider.status).toBe(200);
      const withFallback = await transferWhen(token, transfer.id, (t) => t.messages.length === 2, "the SMS fallback");
      expect(withFallback.messages[1]).toMatchObject({ channel: "SMS", fallbackOfMessageId: accepted.messages[0]!.id, fallbackReason: "RCS revoked by the provider before delivery" });

      const another = await create(token, { phone: "+14165550000" });
      await transferWhen(token, another.id, (t) => t.messages[0]!.providerMessageId !== null, "the second RCS to be accepted");
      const revoked = await graphql(server.url, RevokeTransferDocument, { id: another.id }, token);
      expect(revoked.body.data!.revokeTransfer.status).toBe("REVOKED");
      // A pass of the dispatcher's sweep (every 500 ms) has certainly run by then.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const after = (await graphql(server.url, GetTransferDocument, { id: another.id }, token)).body.data!.transfer!;
      expect(after.messages.map((message) => [message.channel, message.status])).toEqual([["RCS", "REVOKED"]]);
    });

    it("ON_FAILURE: no email copy at first; email is the last fallback after RCS and SMS fail", async () => {
      const token = await tenantWith({ emailCopy: "ON_FAILURE" });
      const transfer = await create(token, { phone: "+14165550422", email: "last-resort@example.com" });
      expect(transfer.messages.map((message) => message.channel)).toEqual(["RCS"]);
      const sent = await transferWhen(token, transfer.id, (t) => t.status === "SENT", "the email fallback to be sent");
      expect(sent.messages.map((message) => [message.channel, message.status])).toEqual([
        ["RCS", "FAILED"],
        ["SMS", "FAILED"],
        ["EMAIL", "SENT"],
      ]);
      expect(sent.messages[2]!.fallbackOfMessageId).toBe(sent.messages[1]!.id);
    });

    it("never falls back when the policy says so: the failed RCS fails the transfer", async () => {
      const token = await tenantWith({ fallbackToSms: false, emailCopy: "NEVER" });
      const transfer = await create(token, { phone: "+14165550404", email: "unused@example.com" });
      const failed = await transferWhen(token, transfer.id, (t) => t.status === "FAILED", "the transfer to fail");
      expect(failed.messages.map((message) => message.channel)).toEqual(["RCS"]);
    });

    it("email now, RCS later: the email goes at once while RCS waits for its time, and its event says when", async () => {
      const token = await tenantWith({ rcsDelayMinutes: 30 });
      const created = new Date();
      const transfer = await create(token, { phone: "+14165550100", email: "first@example.com" });
      const emailed = await transferWhen(token, transfer.id, (t) => t.messages.some((m) => m.channel === "EMAIL" && m.status === "SENT"), "the email to be sent");
      const rcs = emailed.messages.find((message) => message.channel === "RCS")!;
      expect(rcs).toMatchObject({ status: "QUEUED", attempts: 0 });
      const queued = (await queuedEvents(token, transfer.id)).find((event) => event.messageId === rcs.id)!;
      const scheduledFor = Date.parse(queued.metadata.scheduled_for as string);
      expect(scheduledFor - created.getTime()).toBeGreaterThanOrEqual(30 * 60_000 - 1000);
      expect(scheduledFor - created.getTime()).toBeLessThan(31 * 60_000);
    });

    it.runIf(hasPostgres() || process.env.CI === "true")("not delivered within N minutes: the stored timer fires and SMS goes, once; a delivered message disarms it", async () => {
      const sql = postgres(server.databaseUrl!, { max: 1, onnotice: () => {} });
      try {
        const token = await tenantWith({ fallbackAfterMinutes: 1 });
        const silent = await create(token, { phone: "+14165550000" });
        const delivered = await create(token, { phone: "+14165550100" });
        await transferWhen(token, delivered.id, (t) => t.status === "READ", "the second transfer to be read");
        await transferWhen(token, silent.id, (t) => t.messages[0]!.providerMessageId !== null, "the silent RCS to be accepted");

        const armed = await sql<Array<{ transfer_id: string; armed_for_ms: number | null }>>`
          SELECT transfer_id, (extract(epoch from fallback_at - created_at) * 1000)::float8 AS armed_for_ms FROM messages
          WHERE transfer_id IN (${silent.id}, ${delivered.id})`;
        expect(armed.find((row) => row.transfer_id === silent.id)!.armed_for_ms).toBe(60_000);
        expect(armed.find((row) => row.transfer_id === delivered.id)!.armed_for_ms).toBeNull();

        // A minute passes for the silent one (its timer is moved, not the clock).
        await sql`UPDATE messages SET fallback_at = now() - interval '1 second' WHERE transfer_id = ${silent.id}`;
        const fellBack = await transferWhen(token, silent.id, (t) => t.messages.length === 2 && t.messages[1]!.deliveryAttempts.length > 0, "the timed SMS fallback to be sent");
        const [rcs, sms] = fellBack.messages;
        expect(rcs!.status).toBe("QUEUED");
        expect(sms).toMatchObject({ channel: "SMS", fallbackOfMessageId: rcs!.id });
        expect(sms!.fallbackReason).toBe("RCS not delivered within 1 min (still QUEUED)");
        const stillArmed = await sql`SELECT id FROM messages WHERE id = ${rcs!.id} AND fallback_at IS NOT NULL`;
        expect(stillArmed).toHaveLength(0);
        await new Promise((resolve) => setTimeout(resolve, 1200));
        expect((await graphql(server.url, GetTransferDocument, { id: silent.id }, token)).body.data!.transfer!.messages).toHaveLength(2);
      } finally {
        await sql.end();
      }
    });
  });

  describe("failing", () => {
    it.each([
      [{ fallbackAfterMinutes: 0 }, "fallbackAfterMinutes"],
      [{ rcsDelayMinutes: -1 }, "rcsDelayMinutes"],
      [{ rcsDelayMinutes: 7 * 24 * 60 + 1 }, "rcsDelayMinutes"],
    ])("refuses %o with BAD_USER_INPUT naming the field, and keeps the policy", async (input, field) => {
      const token = await tenantWith();
      const refused = await graphql(server.url, SetDeliveryPolicyDocument, { input }, token);
      expect(errorCodes(refused.body)).toEqual(["BAD_USER_INPUT"]);
      expect(refused.body.errors![0]!.extensions).toMatchObject({ field });
      expect((await graphql(server.url, DeliveryPolicyDocument, {}, token)).body.data!.deliveryPolicy.updatedAt).toBeNull();
    });

    it("needs the transfers:write scope to change the policy, and a token to read it", async () => {
      const readOnly = await tokenFor(uniqueTenant("policy"), { scopes: ["transfers:read"] });
      expect(errorCodes((await graphql(server.url, SetDeliveryPolicyDocument, { input: { fallbackToSms: false } }, readOnly)).body)).toEqual(["FORBIDDEN"]);
      expect(errorCodes((await graphql(server.url, DeliveryPolicyDocument, {})).body)).toEqual(["UNAUTHENTICATED"]);
    });

    it("refuses an unknown email copy mode at validation", async () => {
      const token = await tenantWith();
      const refused = await graphql(server.url, SetDeliveryPolicyDocument, { input: { emailCopy: "SOMETIMES" as DeliveryPolicyInput["emailCopy"] } }, token);
      expect(errorCodes(refused.body)).toEqual(["BAD_USER_INPUT"]);
    });
  });
});
