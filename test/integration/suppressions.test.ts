import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateTransferDocument,
  GetTransferDocument,
  ReceiptEventsDocument,
  RemoveSuppressionDocument,
  SuppressAddressDocument,
  SuppressionsDocument,
} from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { errorCodes, graphql } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { postEnablex, postGeneric, receiptsFolded } from "../helpers/webhooks.js";

describe("opt-outs and the suppression list", () => {
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let server: TestServer;
  let token: string;
  let phoneCounter = 3000;
  const nextPhone = () => `+1416555${phoneCounter++}`;

  const create = async (recipient: { phone?: string; email?: string }, as = token) => {
    const created = await graphql(server.url, CreateTransferDocument, { input: { recipient, fileName: "a.pdf", fileSizeBytes: 10, senderName: "Acme" } }, as);
    expect(created.body.errors).toBeUndefined();
    return created.body.data!.createTransfer;
  };
  /** Every message tried, and what the tries recorded folded into the statuses (the fold follows the attempt). */
  const settled = async (id: string, as = token) => {
    const read = async () => (await graphql(server.url, GetTransferDocument, { id }, as)).body.data?.transfer;
    await eventually(async () => ((await read())?.messages.every((message) => message.deliveryAttempts.length > 0) ? true : undefined), "every message to have been tried");
    await receiptsFolded(server.url);
    return (await read())!;
  };
  const suppressions = async (as = token) => (await graphql(server.url, SuppressionsDocument, {}, as)).body.data!.suppressions;

  beforeAll(async () => {
    // The send API's answer for a number ending 9998 is held back, so a receipt can outrun it.
    cpaas = await startFakeCpaas(undefined, { delayMs: (body) => (body.to.endsWith("9998") ? 1500 : 0) });
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url } });
    token = await tokenFor(uniqueTenant("suppress"));
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
  });

  describe("succeeding", () => {
    it("an opt-out suppresses the phone: later RCS is SUPPRESSED, not sent, with no fallback; email still goes", async () => {
      const phone = nextPhone();
      const first = await create({ phone });
      const send = await cpaas.waitForSend(first.id);
      const optOut = await postGeneric(server.url, { event: "message.optout", timestamp: new Date().toISOString(), message_id: send.providerMessageId, channel: "rcs" });
      expect(optOut.status).toBe(200);
      // The receipt may outrun the send's answer: it suppresses once it is matched to the message.
      const suppressed = await eventually(async () => (await suppressions()).find((suppression) => suppression.address === phone), "the phone to be suppressed");
      expect(suppressed).toMatchObject({ kind: "PHONE", reason: "OPT_OUT", createdBy: "receipt" });

      const second = await create({ phone, email: "still-fine@example.com" });
      const tried = await settled(second.id);
      const [rcs, email] = tried.messages;
      expect(rcs).toMatchObject({ channel: "RCS", status: "SUPPRESSED" });
      expect(rcs!.lastError).toContain(phone);
      expect(rcs!.deliveryAttempts.map((attempt) => attempt.outcome)).toEqual(["SUPPRESSED"]);
      expect(email).toMatchObject({ channel: "EMAIL", status: "SENT" });
      expect(tried.messages.some((message) => message.channel === "SMS")).toBe(false);
      expect(cpaas.sends.filter((candidate) => candidate.body.params.transfer_id === second.id)).toHaveLength(0);
      const history = (await graphql(server.url, ReceiptEventsDocument, { filter: { transferId: second.id, event: "OPT_OUT" } }, token)).body.data!.receiptEvents.edges;
      expect(history.map((edge) => edge.node.metadata.suppressed)).toEqual([true]);
    });

    it("an opt-out that outruns the send API's answer suppresses the phone once the answer is recorded", async () => {
      const phone = "+14165559998";
      const transfer = await create({ phone });
      const send = await cpaas.waitForSend(transfer.id);
      const optOut = await postGeneric(server.url, { event: "message.optout", timestamp: new Date().toISOString(), message_id: send.providerMessageId, channel: "rcs" });
      expect(optOut.body).toMatchObject({ stored: 1 });
      // Unmatched until the answer comes: nobody is suppressed yet.
      expect((await suppressions()).map((suppression) => suppression.address)).not.toContain(phone);
      const suppressed = await eventually(async () => (await suppressions()).find((suppression) => suppression.address === phone), "the phone to be suppressed");
      expect(suppressed).toMatchObject({ kind: "PHONE", reason: "OPT_OUT", createdBy: "receipt" });
    });

    it("suppression is per tenant", async () => {
      const phone = nextPhone();
      await graphql(server.url, SuppressAddressDocument, { input: { phone } }, token);
      const otherToken = await tokenFor(uniqueTenant("other"));
      const theirs = await create({ phone }, otherToken);
      await cpaas.waitForSend(theirs.id);
      expect(await suppressions(otherToken)).toEqual([]);
    });

    it("an EnableX STOP reply is an opt-out of the phone", async () => {
      const phone = nextPhone();
      await create({ phone });
      const stop = await postEnablex(server.url, {
        agent: "acme",
        phone,
        request_id: `req_${phone}`,
        session_id: "sess_1",
        type: "text",
        text: "STOP",
        timestamp: new Date().toISOString(),
      });
      expect(stop.status).toBe(200);
      expect(await suppressions()).toContainEqual(expect.objectContaining({ kind: "PHONE", address: phone, reason: "OPT_OUT" }));
    });

    it("a hard bounce suppresses the email address", async () => {
      const email = `bounce-${phoneCounter++}@example.com`;
      const transfer = await create({ email });
      const tried = await settled(transfer.id);
      const bounced = await postGeneric(server.url, {
        event: "message.failed",
        timestamp: new Date().toISOString(),
        message_id: tried.messages[0]!.providerMessageId,
        channel: "email",
        metadata: { bounce_type: "hard", diagnostic: "550 5.1.1 no such user" },
      });
      expect(bounced.status).toBe(200);
      expect(await suppressions()).toContainEqual(expect.objectContaining({ kind: "EMAIL", address: email, reason: "BOUNCE" }));
    });

    it("a suppression added by hand holds until it is lifted with consent, and then sends resume", async () => {
      const email = `manual-${phoneCounter++}@example.com`;
      const added = await graphql(server.url, SuppressAddressDocument, { input: { email, note: "asked by phone" } }, token);
      expect(added.body.data!.suppressAddress).toMatchObject({ kind: "EMAIL", address: email, reason: "MANUAL", note: "asked by phone" });
      const blocked = await settled((await create({ email })).id);
      expect(blocked.messages[0]!.status).toBe("SUPPRESSED");

      const lifted = await graphql(server.url, RemoveSuppressionDocument, { input: { email, consent: "opted in again by web form" } }, token);
      expect(lifted.body.data!.removeSuppression).toBe(true);
      const sent = await settled((await create({ email })).id);
      expect(sent.messages[0]!.status).toBe("SENT");
    });
  });

  describe("failing", () => {
    it("needs exactly one valid address", async () => {
      for (const input of [{ phone: "+14165550100", email: "a@example.com" }, {}, { phone: "4165550100" }, { email: "nope" }]) {
        expect(errorCodes((await graphql(server.url, SuppressAddressDocument, { input }, token)).body)).toEqual(["BAD_USER_INPUT"]);
      }
    });

    it("lifting needs the consent and an existing suppression", async () => {
      expect(errorCodes((await graphql(server.url, RemoveSuppressionDocument, { input: { phone: nextPhone(), consent: "yes" } }, token)).body)).toEqual(["NOT_FOUND"]);
      const phone = nextPhone();
      await graphql(server.url, SuppressAddressDocument, { input: { phone } }, token);
      expect(errorCodes((await graphql(server.url, RemoveSuppressionDocument, { input: { phone, consent: "  " } }, token)).body)).toEqual(["BAD_USER_INPUT"]);
    });

    it("needs a token with the right scope", async () => {
      const readOnly = await tokenFor("whoever", { scopes: ["transfers:read"] });
      expect(errorCodes((await graphql(server.url, SuppressAddressDocument, { input: { phone: nextPhone() } }, readOnly)).body)).toEqual(["FORBIDDEN"]);
      expect(errorCodes((await graphql(server.url, SuppressionsDocument, {})).body)).toEqual(["UNAUTHENTICATED"]);
    });
  });
});
