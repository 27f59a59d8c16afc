import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateTransferDocument,
  ReceiptEventsDocument,
  ResendNotificationDocument,
  RevokeTransferDocument,
} from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { errorCodes, graphql } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { hasPostgres } from "../helpers/services.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { postGeneric } from "../helpers/webhooks.js";

describe("revokeTransfer and resendNotification", () => {
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let server: TestServer;
  let token: string;

  const create = async (recipient: { phone?: string; email?: string }, as = token) => {
    const created = await graphql(server.url, CreateTransferDocument, { input: { recipient, fileName: "a.pdf", fileSizeBytes: 10, senderName: "Acme" } }, as);
    expect(created.body.errors).toBeUndefined();
    return created.body.data!.createTransfer;
  };
  const events = async (transferId: string) =>
    (await graphql(server.url, ReceiptEventsDocument, { filter: { transferId }, first: 100 }, token)).body.data!.receiptEvents.edges.map((edge) => edge.node);

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url } });
    token = await tokenFor(uniqueTenant("revoke"));
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
  });

  describe("succeeding", () => {
    it("revokes a delivered transfer: the delivery stands, the transfer is REVOKED, and each message records why", async () => {
      const transfer = await create({ phone: "+14165551200" });
      const send = await cpaas.waitForSend(transfer.id);
      await postGeneric(server.url, { event: "message.delivered", timestamp: new Date().toISOString(), message_id: send.providerMessageId });
      await eventually(async () => ((await events(transfer.id)).some((event) => event.event === "DELIVERED") ? true : undefined), "the delivery");

      const revoked = await graphql(server.url, RevokeTransferDocument, { id: transfer.id, reason: "sent to the wrong auditor" }, token);
      expect(revoked.body.errors).toBeUndefined();
      expect(revoked.body.data!.revokeTransfer.status).toBe("REVOKED");
      expect(revoked.body.data!.revokeTransfer.messages[0]!.status).toBe("DELIVERED");
      const revokedEvents = (await events(transfer.id)).filter((event) => event.event === "REVOKED");
      expect(revokedEvents).toHaveLength(1);
      expect(revokedEvents[0]!.source).toBe("ackline");
      expect(revokedEvents[0]!.metadata.reason).toBe("sent to the wrong auditor");

      // Revoking again changes nothing and records nothing more.
      const again = await graphql(server.url, RevokeTransferDocument, { id: transfer.id }, token);
      expect(again.body.data!.revokeTransfer.status).toBe("REVOKED");
      expect((await events(transfer.id)).filter((event) => event.event === "REVOKED")).toHaveLength(1);
    });

    it.runIf(hasPostgres() || process.env.CI === "true")("a transfer revoked before its worker runs is never sent", async () => {
      const api = await startTestServer({ env: { ROLE: "api", CPAAS_API_URL: cpaas.url } });
      try {
        const queued = await graphql(api.url, CreateTransferDocument, { input: { recipient: { phone: "+14165551201", email: "r@example.com" }, fileName: "b.pdf", fileSizeBytes: 1, senderName: "Acme" } }, token);
        const transferId = queued.body.data!.createTransfer.id;
        const revoked = await graphql(api.url, RevokeTransferDocument, { id: transferId }, token);
        expect(revoked.body.data!.revokeTransfer.messages.map((message) => message.status)).toEqual(["REVOKED", "REVOKED"]);

        const worker = await startTestServer({ databaseUrl: api.databaseUrl, env: { ROLE: "worker", CPAAS_API_URL: cpaas.url } });
        try {
          // A fresh transfer queued after the revoked one proves the worker has run its passes.
          const later = await graphql(api.url, CreateTransferDocument, { input: { recipient: { phone: "+14165551202" }, fileName: "c.pdf", fileSizeBytes: 1, senderName: "Acme" } }, token);
          await cpaas.waitForSend(later.body.data!.createTransfer.id);
          expect(cpaas.sends.filter((send) => send.body.params.transfer_id === transferId)).toHaveLength(0);
        } finally {
          await worker.close();
        }
      } finally {
        await api.close();
      }
    });

    it("resends on the default channel, once per idempotency key", async () => {
      const transfer = await create({ phone: "+14165551203" });
      await cpaas.waitForSend(transfer.id);
      const input = { transferId: transfer.id, idempotencyKey: "nudge-1" };
      const first = await graphql(server.url, ResendNotificationDocument, { input }, token);
      const second = await graphql(server.url, ResendNotificationDocument, { input }, token);
      expect(first.body.errors).toBeUndefined();
      expect(first.body.data!.resendNotification.messages.map((message) => message.channel)).toEqual(["RCS", "RCS"]);
      expect(second.body.data!.resendNotification.messages).toHaveLength(2);
      const resent = first.body.data!.resendNotification.messages[1]!;
      await eventually(() => (cpaas.sends.some((send) => send.body.client_message_id === resent.id) ? true : undefined), "the resend to reach the provider");
      expect(cpaas.sends.filter((send) => send.body.params.transfer_id === transfer.id)).toHaveLength(2);
    });

    it("resends by email when asked and the recipient has an address", async () => {
      const transfer = await create({ phone: "+14165551204", email: "auditor@example.com" });
      const resent = await graphql(server.url, ResendNotificationDocument, { input: { transferId: transfer.id, channel: "EMAIL" } }, token);
      expect(resent.body.data!.resendNotification.messages.filter((message) => message.channel === "EMAIL")).toHaveLength(2);
    });
  });

  describe("failing", () => {
    it("answers NOT_FOUND for an unknown or another tenant's transfer", async () => {
      const theirs = await create({ phone: "+14165551205" }, await tokenFor(uniqueTenant("other")));
      for (const id of [theirs.id, "tx_missing"]) {
        expect(errorCodes((await graphql(server.url, RevokeTransferDocument, { id }, token)).body)).toEqual(["NOT_FOUND"]);
        expect(errorCodes((await graphql(server.url, ResendNotificationDocument, { input: { transferId: id } }, token)).body)).toEqual(["NOT_FOUND"]);
      }
    });

    it("refuses both without the transfers:write scope", async () => {
      const transfer = await create({ phone: "+14165551206" });
      const readOnly = await tokenFor("whoever", { scopes: ["transfers:read"] });
      expect(errorCodes((await graphql(server.url, RevokeTransferDocument, { id: transfer.id }, readOnly)).body)).toEqual(["FORBIDDEN"]);
      expect(errorCodes((await graphql(server.url, ResendNotificationDocument, { input: { transferId: transfer.id } }, readOnly)).body)).toEqual(["FORBIDDEN"]);
    });

    it("refuses to resend a revoked transfer (CONFLICT) or on a channel the recipient lacks (BAD_USER_INPUT)", async () => {
      const phoneOnly = await create({ phone: "+14165551207" });
      const noEmail = await graphql(server.url, ResendNotificationDocument, { input: { transferId: phoneOnly.id, channel: "EMAIL" } }, token);
      expect(errorCodes(noEmail.body)).toEqual(["BAD_USER_INPUT"]);
      await graphql(server.url, RevokeTransferDocument, { id: phoneOnly.id }, token);
      const afterRevoke = await graphql(server.url, ResendNotificationDocument, { input: { transferId: phoneOnly.id } }, token);
      expect(errorCodes(afterRevoke.body)).toEqual(["CONFLICT"]);
    });
  });
});
