import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GenericSendBody } from "../../src/delivery/generic-cpaas.adapter.js";
import {
  CreateTransferDocument,
  GetTransferDocument,
  ReceiptEventsDocument,
  type ReceiptEventFieldsFragment,
  type TransferFieldsFragment,
  TransferUpdatedDocument,
} from "../generated/graphql.js";
import { graphql, subscribe, wsClient } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { hasPostgres } from "../helpers/services.js";
import { genericSignature, postEnablex, postGeneric, postStandard, receiptsFolded } from "../helpers/webhooks.js";

/**
 * A generic CPaaS send API whose answer can be held back for a chosen recipient, with a provider
 * id chosen by the test: receipts can then be posted while the send call is still in flight.
 */
async function startHoldableCpaas() {
  const sends: Array<{ body: GenericSendBody; providerMessageId: string }> = [];
  const accepted = new Map<string, string>();
  const holds = new Map<string, { providerMessageId: string; arrived: (body: GenericSendBody) => void; released: Promise<void> }>();
  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  const server = createServer((request, response) => {
    void (async () => {
      if (request.method !== "POST" || request.url !== "/v1/messages") {
        response.writeHead(404).end();
        return;
      }
      const body = JSON.parse(await readBody(request)) as GenericSendBody;
      let id = accepted.get(body.client_message_id);
      const hold = holds.get(body.to);
      if (!id && hold) {
        hold.arrived(body);
        await hold.released;
        holds.delete(body.to);
        id = hold.providerMessageId;
      }
      id ??= `fake_${randomBytes(8).toString("hex")}`;
      accepted.set(body.client_message_id, id);
      sends.push({ body, providerMessageId: id });
      response.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ id }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    /** Holds the next send to `phone` until `release()`, then answers with `providerMessageId`. */
    hold(phone: string, providerMessageId: string) {
      let arrived!: (body: GenericSendBody) => void;
      let release!: () => void;
      const arrival = new Promise<GenericSendBody>((resolve) => (arrived = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      holds.set(phone, { providerMessageId, arrived, released });
      return { arrival, release };
    },
    async waitForSend(transferId: string, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const send = sends.find((candidate) => candidate.body.params.transfer_id === transferId);
        if (send) return send;
        if (Date.now() > deadline) throw new Error(`no accepted send for ${transferId} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () => {
      for (const hold of holds.values()) hold.arrived = () => {};
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `read` until `done` holds (the dispatcher works asynchronously); returns the last value. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("webhook side-door — successful deliveries", () => {
  let server: TestServer;
  let cpaas: Awaited<ReturnType<typeof startHoldableCpaas>>;
  let acme: string;
  let globex: string;
  let phoneCounter = 0;
  /** A fresh phone per test, so inbound-message correlation never crosses tests. */
  const nextPhone = () => `+1416555${String(2000 + phoneCounter++)}`;
  /** Distinct, increasing provider times in the recent past. */
  const base = Date.now() - 120_000;
  let tick = 0;
  const at = (offsetMs = 0) => new Date(base + (tick += 1000) + offsetMs).toISOString();

  beforeAll(async () => {
    cpaas = await startHoldableCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, CPAAS_TOKEN: "cpaas-token" } });
    acme = await tokenFor("acme");
    globex = await tokenFor("globex");
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
  });

  async function create(token: string, phone = nextPhone()): Promise<TransferFieldsFragment> {
    const created = await graphql(
      server.url,
      CreateTransferDocument,
      { input: { recipient: { phone }, fileName: "q4.zip", fileSizeBytes: 1_000_000, senderName: "Acme DataOps", description: "Q4 data" } },
      token,
    );
    expect(created.body.errors).toBeUndefined();
    return created.body.data!.createTransfer;
  }

  /** A transfer whose RCS message the fake CPaaS accepted, with the provider's id. */
  async function sentTransfer(token = acme, phone = nextPhone()) {
    const transfer = await create(token, phone);
    const send = await cpaas.waitForSend(transfer.id);
    const ready = await eventually(
      () => getTransfer(token, transfer.id),
      (current) => current?.messages[0]?.providerMessageId === send.providerMessageId,
    );
    expect(ready?.messages[0]?.providerMessageId).toBe(send.providerMessageId);
    return { transfer, phone, messageId: transfer.messages[0]!.id, providerMessageId: send.providerMessageId };
  }

  async function getTransfer(token: string, id: string) {
    const result = await graphql(server.url, GetTransferDocument, { id }, token);
    expect(result.body.errors).toBeUndefined();
    return result.body.data!.transfer;
  }

  async function history(token: string, filter: { transferId?: string; event?: ReceiptEventFieldsFragment["event"] } = {}) {
    const result = await graphql(server.url, ReceiptEventsDocument, { filter, first: 500 }, token);
    expect(result.body.errors).toBeUndefined();
    return result.body.data!.receiptEvents.edges.map((edge) => edge.node);
  }

  const webhookEvents = async (token: string, transferId: string) =>
    (await history(token, { transferId })).filter((event) => event.source !== "ackline");

  describe("each door stores its events for the right tenant", () => {
    it("generic: stored, applied, and visible only to the transfer's tenant", async () => {
      const { transfer, messageId, providerMessageId } = await sentTransfer();
      const timestamp = at(123);
      const posted = await postGeneric(server.url, {
        event: "message.delivered",
        timestamp,
        message_id: providerMessageId,
        recipient: transfer.recipient.phone,
        channel: "rcs",
        carrier: "310260",
        metadata: { delivery_code: 200 },
      });
      expect(posted).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });

      const events = await webhookEvents(acme, transfer.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        transferId: transfer.id,
        messageId,
        channel: "RCS",
        event: "DELIVERED",
        timestamp,
        provider: "cpaas",
        source: "generic",
        carrier: "310260",
        metadata: { delivery_code: 200, recipient: transfer.recipient.phone },
      });
      expect((await getTransfer(acme, transfer.id))?.status).toBe("DELIVERED");

      // Another tenant sees neither the transfer nor its receipts.
      expect(await history(globex, { transferId: transfer.id })).toEqual([]);
      expect((await history(globex)).map((event) => event.id)).not.toContain(events[0]!.id);
      expect(await getTransfer(globex, transfer.id)).toBeNull();
    });

    it("enablex: a delivery status for the provider's message id is stored and applied", async () => {
      const { transfer, phone, messageId, providerMessageId } = await sentTransfer();
      const timestamp = at();
      const posted = await postEnablex(server.url, {
        phone,
        agent: "ackline",
        type: "message",
        message: { message_id: providerMessageId, status: "SENT", failure_reason: "" },
        timestamp,
      });
      expect(posted).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
      const events = await webhookEvents(acme, transfer.id);
      expect(events).toHaveLength(1);
      // The format names no provider: the message's own provider is recorded, the door beside it.
      expect(events[0]).toMatchObject({ messageId, event: "SENT", channel: "RCS", provider: "cpaas", source: "enablex", timestamp });
      const now = await getTransfer(acme, transfer.id);
      expect(now?.status).toBe("SENT");
      expect(now?.messages[0]?.status).toBe("SENT");
    });

    it("standard: a canonical event naming Ackline's own message id is stored and applied", async () => {
      const { transfer, messageId } = await sentTransfer();
      const timestamp = at(456);
      const posted = await postStandard(server.url, `msg_${randomBytes(8).toString("hex")}`, {
        transfer_id: transfer.id,
        message_id: messageId,
        channel: "rcs",
        event: "delivered",
        timestamp,
        provider: "cpaas@example",
        metadata: { carrier_status: "MCCMNC", delivery_code: 200 },
      });
      expect(posted).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
      const events = await webhookEvents(acme, transfer.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        transferId: transfer.id,
        messageId,
        channel: "RCS",
        event: "DELIVERED",
        timestamp,
        provider: "cpaas@example",
        source: "standard",
        carrier: "MCCMNC",
        metadata: { carrier_status: "MCCMNC", delivery_code: 200 },
      });
      expect((await getTransfer(acme, transfer.id))?.status).toBe("DELIVERED");
    });

    it("standard: a message id that does not belong to the named transfer attaches to neither", async () => {
      const first = await sentTransfer();
      const second = await sentTransfer(globex);
      const posted = await postStandard(server.url, `msg_${randomBytes(8).toString("hex")}`, {
        transfer_id: second.transfer.id,
        message_id: first.messageId,
        channel: "rcs",
        event: "read",
        timestamp: at(),
        provider: "cpaas@example",
      });
      expect(posted.status).toBe(200);
      expect(await webhookEvents(acme, first.transfer.id)).toEqual([]);
      expect(await webhookEvents(globex, second.transfer.id)).toEqual([]);
      expect((await getTransfer(acme, first.transfer.id))?.status).toBe("QUEUED");
      expect((await getTransfer(globex, second.transfer.id))?.status).toBe("QUEUED");
    });

    it("verifies the raw bytes whatever the Content-Type (or none at all)", async () => {
      const { transfer, providerMessageId } = await sentTransfer();
      const bodies = [
        { contentType: undefined, event: "message.sent" },
        { contentType: "text/plain", event: "message.delivered" },
        { contentType: "application/x-www-form-urlencoded", event: "message.read" },
      ].map(({ contentType, event }) => ({ contentType, body: JSON.stringify({ event, timestamp: at(), message_id: providerMessageId, channel: "rcs" }) }));
      for (const { contentType, body } of bodies) {
        const response = await fetch(`${server.url}/webhooks/generic`, {
          method: "POST",
          headers: { "x-webhook-signature": genericSignature(body), ...(contentType ? { "content-type": contentType } : {}) },
          body: Buffer.from(body),
        });
        expect(response.status, contentType ?? "no content-type").toBe(200);
        expect(await response.json(), contentType ?? "no content-type").toEqual({ received: 1, stored: 1, duplicates: 0 });
      }
      await receiptsFolded(server.url);
      expect((await webhookEvents(acme, transfer.id)).map((event) => event.event)).toEqual(["SENT", "DELIVERED", "READ"]);
    });

    it.runIf(hasPostgres())("template approvals from both formats are stored before they are acknowledged; the newest provider time wins", async () => {
      const name = `tpl_${randomBytes(4).toString("hex")}`;
      const approvedAt = at();
      const generic = await postGeneric(server.url, { event: "template.approved", timestamp: approvedAt, template_id: name, metadata: { comment: "Ok" } });
      expect(generic.status).toBe(200);
      expect(generic.body).toMatchObject({ received: 1, duplicates: 0 });
      const enablex = await postEnablex(server.url, {
        agent: "ackline",
        type: "template",
        template: { name, status: "rejected", type: "text", comment: "needs opt-out text" },
        timestamp: at(),
      });
      expect(enablex.status).toBe(200);
      expect(enablex.body).toMatchObject({ received: 1, duplicates: 0 });
      // An older approval arriving late does not undo the newer rejection.
      const late = await postEnablex(server.url, {
        agent: "ackline",
        type: "template",
        template: { name, status: "approved", type: "text", comment: "Ok" },
        timestamp: at(-60_000),
      });
      expect(late.status).toBe(200);

      const sql = postgres(server.databaseUrl!, { max: 1, onnotice: () => {} });
      try {
        const rows = await sql<Array<{ provider: string; status: string; comment: string | null }>>`
          SELECT provider, status, comment FROM templates WHERE name = ${name} ORDER BY provider`;
        expect(rows).toEqual([
          { provider: "enablex", status: "REJECTED", comment: "needs opt-out text" },
          { provider: "generic", status: "APPROVED", comment: "Ok" },
        ]);
      } finally {
        await sql.end();
      }
    });
  });

  describe("duplicates", () => {
    it("generic: a retried receipt answers 200 with duplicates:1 and adds no row", async () => {
      const { transfer, providerMessageId } = await sentTransfer();
      const payload = { event: "message.delivered", timestamp: at(), message_id: providerMessageId, channel: "rcs" };
      expect((await postGeneric(server.url, payload)).body).toEqual({ received: 1, stored: 1, duplicates: 0 });
      const before = await history(acme, { transferId: transfer.id });

      const retried = await postGeneric(server.url, payload);
      expect(retried).toEqual({ status: 200, body: { received: 1, stored: 0, duplicates: 1 } });
      const after = await history(acme, { transferId: transfer.id });
      expect(after).toEqual(before);
      expect((await getTransfer(acme, transfer.id))?.status).toBe("DELIVERED");
    });

    it("enablex: a retried status and a retried inbound message are duplicates", async () => {
      const { transfer, phone, providerMessageId } = await sentTransfer();
      const status = { phone, type: "message", message: { message_id: providerMessageId, status: "READ" }, timestamp: at() };
      const reply = { phone, request_id: `req_${randomBytes(6).toString("hex")}`, session_id: "s1", type: "text", text: "thanks!", timestamp: at() };
      expect((await postEnablex(server.url, status)).body).toMatchObject({ stored: 1 });
      expect((await postEnablex(server.url, reply)).body).toMatchObject({ stored: 1 });
      const before = await history(acme, { transferId: transfer.id });

      expect(await postEnablex(server.url, status)).toEqual({ status: 200, body: { received: 1, stored: 0, duplicates: 1 } });
      // The same request_id is the same inbound message, whatever else differs.
      expect(await postEnablex(server.url, { ...reply, timestamp: at() })).toEqual({ status: 200, body: { received: 1, stored: 0, duplicates: 1 } });
      expect(await history(acme, { transferId: transfer.id })).toEqual(before);
    });

    it("standard: the same webhook-id is a duplicate and changes nothing, even with another body", async () => {
      const { transfer, messageId } = await sentTransfer();
      const id = `msg_${randomBytes(8).toString("hex")}`;
      const event = { transfer_id: transfer.id, message_id: messageId, channel: "rcs", event: "delivered", timestamp: at(), provider: "cpaas@example" };
      expect((await postStandard(server.url, id, event)).body).toEqual({ received: 1, stored: 1, duplicates: 0 });
      const before = await history(acme, { transferId: transfer.id });

      // A retry is signed afresh with a new timestamp.
      expect(await postStandard(server.url, id, event, { timestamp: Math.floor(Date.now() / 1000) + 5 })).toEqual({
        status: 200,
        body: { received: 1, stored: 0, duplicates: 1 },
      });
      // webhook-id is the idempotency key: a "retry" carrying READ must not move the transfer.
      expect(await postStandard(server.url, id, { ...event, event: "read", timestamp: at() })).toEqual({
        status: 200,
        body: { received: 1, stored: 0, duplicates: 1 },
      });
      expect(await history(acme, { transferId: transfer.id })).toEqual(before);
      const now = await getTransfer(acme, transfer.id);
      expect(now?.status).toBe("DELIVERED");
      expect(now?.messages[0]?.status).toBe("DELIVERED");
    });

    it("concurrent copies of the same receipts are stored once each", async () => {
      const { transfer, providerMessageId } = await sentTransfer();
      const clicks = Array.from({ length: 8 }, (_, index) => ({ event: "message.clicked", timestamp: at(index), message_id: providerMessageId, channel: "rcs" }));
      const results = await Promise.all([...clicks, ...clicks, ...clicks].map((payload) => postGeneric(server.url, payload)));
      expect(results.every((result) => result.status === 200)).toBe(true);
      const stored = results.reduce((sum, result) => sum + (result.body.stored as number), 0);
      const duplicates = results.reduce((sum, result) => sum + (result.body.duplicates as number), 0);
      expect(stored).toBe(8);
      expect(duplicates).toBe(16);
      const actions = await history(acme, { transferId: transfer.id, event: "ACTION" });
      expect(actions.map((event) => event.timestamp).sort()).toEqual(clicks.map((click) => click.timestamp).sort());
      // Clicks are history: they move nothing.
      expect((await getTransfer(acme, transfer.id))?.status).toBe("QUEUED");
    });
  });

  describe("out-of-order receipts", () => {
    it("read before delivered: the transfer ends READ, both events kept", async () => {
      const { transfer, providerMessageId } = await sentTransfer();
      const deliveredAt = at();
      const readAt = at();
      expect((await postGeneric(server.url, { event: "message.read", timestamp: readAt, message_id: providerMessageId, channel: "rcs" })).status).toBe(200);
      expect((await getTransfer(acme, transfer.id))?.status).toBe("READ");
      expect((await postGeneric(server.url, { event: "message.delivered", timestamp: deliveredAt, message_id: providerMessageId, channel: "rcs" })).body).toMatchObject({
        stored: 1,
      });
      const now = await getTransfer(acme, transfer.id);
      expect(now?.status).toBe("READ");
      expect(now?.messages[0]?.status).toBe("READ");
      const events = await webhookEvents(acme, transfer.id);
      expect(events.map((event) => event.event)).toEqual(["READ", "DELIVERED"]); // in the order they arrived
      expect(events.map((event) => event.timestamp)).toEqual([readAt, deliveredAt]);
    });

    it("a late SENT or DELIVERED after READ leaves READ (across doors)", async () => {
      const { transfer, phone, messageId, providerMessageId } = await sentTransfer();
      const responses = [
        await postStandard(server.url, `msg_${randomBytes(8).toString("hex")}`, {
          transfer_id: transfer.id,
          message_id: messageId,
          channel: "rcs",
          event: "read",
          timestamp: at(),
          provider: "cpaas@example",
        }),
        await postEnablex(server.url, { phone, type: "message", message: { message_id: providerMessageId, status: "DELIVERED" }, timestamp: at() }),
        await postGeneric(server.url, { event: "message.sent", timestamp: at(), message_id: providerMessageId }),
      ];
      expect(responses.map((response) => response.body.stored)).toEqual([1, 1, 1]);
      const now = await getTransfer(acme, transfer.id);
      expect(now?.status).toBe("READ");
      expect(now?.messages[0]?.status).toBe("READ");
      expect((await webhookEvents(acme, transfer.id)).map((event) => event.event).sort()).toEqual(["DELIVERED", "READ", "SENT"]);
    });

    it("RCS: FAILED after DELIVERED leaves DELIVERED (the failure is kept as history)", async () => {
      const { transfer, phone, providerMessageId } = await sentTransfer();
      expect((await postGeneric(server.url, { event: "message.delivered", timestamp: at(), message_id: providerMessageId, channel: "rcs" })).body).toMatchObject({ stored: 1 });
      const failed = await postEnablex(server.url, {
        phone,
        type: "message",
        message: { message_id: providerMessageId, status: "FAILED", failure_reason: "late carrier error" },
        timestamp: at(),
      });
      expect(failed.body).toMatchObject({ stored: 1 });
      const now = await getTransfer(acme, transfer.id);
      expect(now?.status).toBe("DELIVERED");
      expect(now?.messages[0]?.status).toBe("DELIVERED");
      const failures = await history(acme, { transferId: transfer.id, event: "FAILED" });
      expect(failures).toHaveLength(1);
      expect(failures[0]?.metadata).toMatchObject({ failure_reason: "late carrier error" });
    });

    it("RCS: a provider REVOKED after DELIVERED leaves DELIVERED", async () => {
      const { transfer, phone, providerMessageId } = await sentTransfer();
      for (const status of ["DELIVERED", "REVOKED"]) {
        const posted = await postEnablex(server.url, { phone, type: "message", message: { message_id: providerMessageId, status }, timestamp: at() });
        expect(posted.body).toMatchObject({ stored: 1 });
      }
      const now = await getTransfer(acme, transfer.id);
      expect(now?.status).toBe("DELIVERED");
      expect(now?.messages[0]?.status).toBe("DELIVERED");
    });
  });

  describe("receipts that outrun the send API's answer", () => {
    it("are stored unmatched (visible to no tenant), then attached and applied when the provider id is recorded", async () => {
      const phone = nextPhone();
      const providerMessageId = `early_${randomBytes(6).toString("hex")}`;
      const held = cpaas.hold(phone, providerMessageId);
      const transfer = await create(acme, phone);
      const send = await held.arrival; // the send call is in flight, its answer held back
      expect(send.params.transfer_id).toBe(transfer.id);

      const client = wsClient(server.wsUrl, { Authorization: `Bearer ${acme}` });
      const updates = subscribe(client, TransferUpdatedDocument, { id: transfer.id });
      try {
        expect((await updates.next()).data?.transferUpdated.event).toBeNull();

        const deliveredAt = at();
        const readAt = at();
        expect(await postGeneric(server.url, { event: "message.delivered", timestamp: deliveredAt, message_id: providerMessageId, carrier: "310260" })).toEqual({
          status: 200,
          body: { received: 1, stored: 1, duplicates: 0 },
        });
        expect(
          await postEnablex(server.url, { phone, type: "message", message: { message_id: providerMessageId, status: "READ" }, timestamp: readAt }),
        ).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });

        // Durable but unmatched: nobody sees it yet, and nothing moved.
        expect(await webhookEvents(acme, transfer.id)).toEqual([]);
        const waiting = await getTransfer(acme, transfer.id);
        expect(waiting?.status).toBe("QUEUED");
        expect(waiting?.messages[0]?.providerMessageId).toBeNull();

        held.release();
        const attached = await eventually(
          () => getTransfer(acme, transfer.id),
          (current) => current?.status === "READ",
        );
        expect(attached?.status).toBe("READ");
        expect(attached?.messages[0]).toMatchObject({ providerMessageId, status: "READ" });

        const events = await webhookEvents(acme, transfer.id);
        expect(events.map((event) => [event.event, event.source])).toEqual([
          ["DELIVERED", "generic"],
          ["READ", "enablex"],
        ]);
        for (const event of events) {
          // Attached to the message, with the message's channel and provider filled in.
          expect(event).toMatchObject({ transferId: transfer.id, messageId: transfer.messages[0]!.id, channel: "RCS", provider: "cpaas" });
        }
        expect(events[0]).toMatchObject({ timestamp: deliveredAt, carrier: "310260" });

        // Subscribers hear of the attached events too.
        const seen: string[] = [];
        while (!seen.includes("READ")) {
          const update = await updates.next(15_000);
          const event = update.data?.transferUpdated.event;
          if (event) seen.push(event.event);
        }
        expect(seen).toEqual(expect.arrayContaining(["DELIVERED", "READ"]));

        // The retry of an attached receipt is still a duplicate.
        expect((await postGeneric(server.url, { event: "message.delivered", timestamp: deliveredAt, message_id: providerMessageId, carrier: "310260" })).body).toEqual({
          received: 1,
          stored: 0,
          duplicates: 1,
        });
      } finally {
        updates.dispose();
        await client.dispose();
      }
    });

    it("a receipt for a provider id no message has is stored but visible to no tenant", async () => {
      const timestamp = at(); // unique across this file's events
      const posted = await postGeneric(server.url, { event: "message.read", timestamp, message_id: `orphan_${randomBytes(6).toString("hex")}`, channel: "rcs" });
      expect(posted).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
      for (const token of [acme, globex]) {
        expect((await history(token, { event: "READ" })).filter((event) => event.timestamp === timestamp)).toEqual([]);
      }
    });
  });

  describe("EnableX interactions", () => {
    it('a suggestion with postback "download:<transferId>" attaches to that transfer as ACTION and moves nothing', async () => {
      const phone = nextPhone();
      const older = await sentTransfer(acme, phone);
      const newer = await sentTransfer(acme, phone);
      const delivered = await postGeneric(server.url, { event: "message.delivered", timestamp: at(), message_id: older.providerMessageId, channel: "rcs" });
      expect(delivered.body).toMatchObject({ stored: 1 });

      const requestId = `req_${randomBytes(6).toString("hex")}`;
      const timestamp = at();
      const posted = await postEnablex(server.url, {
        agent: "ackline",
        phone,
        request_id: requestId,
        session_id: "sess_1",
        type: "suggestion",
        suggestion: { type: "action", postback: `download:${older.transfer.id}`, text: "Download" },
        timestamp,
      });
      expect(posted).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });

      // The postback names the older transfer; the phone alone would have picked the newer one.
      const actions = await history(acme, { transferId: older.transfer.id, event: "ACTION" });
      expect(actions).toHaveLength(1);
      expect(actions[0]).toMatchObject({
        transferId: older.transfer.id,
        messageId: null,
        channel: "RCS",
        event: "ACTION",
        timestamp,
        source: "enablex",
        metadata: { postback: `download:${older.transfer.id}`, suggestion_type: "action", text: "Download" },
      });
      expect(await history(acme, { transferId: newer.transfer.id, event: "ACTION" })).toEqual([]);
      const now = await getTransfer(acme, older.transfer.id);
      expect(now?.status).toBe("DELIVERED");
      expect(now?.messages[0]?.status).toBe("DELIVERED");
    });

    it("an inbound text from the recipient's phone attaches to the latest open transfer to that phone as REPLY", async () => {
      const phone = nextPhone();
      const older = await sentTransfer(acme, phone);
      const newer = await sentTransfer(acme, phone);
      const text = `reply ${randomBytes(4).toString("hex")}`;
      const posted = await postEnablex(server.url, {
        agent: "ackline",
        phone,
        request_id: `req_${randomBytes(6).toString("hex")}`,
        session_id: "sess_2",
        type: "text",
        text,
        timestamp: at(),
      });
      expect(posted).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
      const replies = await history(acme, { transferId: newer.transfer.id, event: "REPLY" });
      expect(replies).toHaveLength(1);
      expect(replies[0]).toMatchObject({ transferId: newer.transfer.id, messageId: null, event: "REPLY", source: "enablex", metadata: { kind: "text", text } });
      expect(await history(acme, { transferId: older.transfer.id, event: "REPLY" })).toEqual([]);
      expect((await getTransfer(acme, newer.transfer.id))?.status).toBe("QUEUED");
    });

    it("an inbound location and file attach the same way; a phone with no transfer stays unmatched", async () => {
      const { transfer, phone } = await sentTransfer();
      const location = await postEnablex(server.url, {
        phone,
        request_id: `req_${randomBytes(6).toString("hex")}`,
        type: "location",
        location: { latitude: "43.6532", longitude: "-79.3832" },
        timestamp: at(),
      });
      const file = await postEnablex(server.url, {
        phone,
        request_id: `req_${randomBytes(6).toString("hex")}`,
        type: "file",
        file: { media: "image", image: { mimeType: "image/jpeg", fileSizeBytes: 1024, fileUri: "https://files.example/x.jpg", fileName: "x.jpg" } },
        timestamp: at(),
      });
      expect([location.status, file.status]).toEqual([200, 200]);
      const replies = await history(acme, { transferId: transfer.id, event: "REPLY" });
      expect(replies.map((reply) => reply.metadata.kind).sort()).toEqual(["file", "location"]);

      const stranger = `stranger ${randomBytes(4).toString("hex")}`;
      const unmatched = await postEnablex(server.url, { phone: nextPhone(), request_id: `req_${randomBytes(6).toString("hex")}`, type: "text", text: stranger, timestamp: at() });
      expect(unmatched).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
      for (const token of [acme, globex]) {
        expect((await history(token, { event: "REPLY" })).filter((reply) => reply.metadata.text === stranger)).toEqual([]);
      }
    });
  });

  it("a single subscriber receives every stored event, status-changing or not, with the transfer as it now stands", async () => {
    const { transfer, phone, messageId, providerMessageId } = await sentTransfer();
    const client = wsClient(server.wsUrl, { Authorization: `Bearer ${acme}` });
    const updates = subscribe(client, TransferUpdatedDocument, { id: transfer.id });
    try {
      const first = await updates.next();
      expect(first.data?.transferUpdated.event).toBeNull();
      expect(first.data?.transferUpdated.transfer.id).toBe(transfer.id);

      const nextEvent = async () => {
        for (;;) {
          const update = await updates.next(15_000);
          expect(update.errors).toBeUndefined();
          if (update.data?.transferUpdated.event) return update.data.transferUpdated;
        }
      };
      const sentPayload = { event: "message.sent", timestamp: at(), message_id: providerMessageId, channel: "rcs" };
      const steps: Array<{ post: () => Promise<unknown>; event: string; source: string; status: string; messageStatus: string }> = [
        { post: () => postGeneric(server.url, sentPayload), event: "SENT", source: "generic", status: "SENT", messageStatus: "SENT" },
        {
          post: () => postEnablex(server.url, { phone, type: "message", message: { message_id: providerMessageId, status: "DELIVERED" }, timestamp: at() }),
          event: "DELIVERED",
          source: "enablex",
          status: "DELIVERED",
          messageStatus: "DELIVERED",
        },
        {
          post: () =>
            postEnablex(server.url, {
              phone,
              request_id: `req_${randomBytes(6).toString("hex")}`,
              type: "suggestion",
              suggestion: { type: "action", postback: `download:${transfer.id}`, text: "Download" },
              timestamp: at(),
            }),
          event: "ACTION",
          source: "enablex",
          status: "DELIVERED",
          messageStatus: "DELIVERED",
        },
        {
          post: () => postEnablex(server.url, { phone, type: "typing", message_id: providerMessageId, timestamp: at() }),
          event: "TYPING",
          source: "enablex",
          status: "DELIVERED",
          messageStatus: "DELIVERED",
        },
        {
          post: () => postEnablex(server.url, { phone, request_id: `req_${randomBytes(6).toString("hex")}`, type: "text", text: "got it", timestamp: at() }),
          event: "REPLY",
          source: "enablex",
          status: "DELIVERED",
          messageStatus: "DELIVERED",
        },
        {
          post: async () => {
            // A duplicate publishes nothing: the next frame must be the READ below.
            expect((await postGeneric(server.url, sentPayload)).body).toMatchObject({ duplicates: 1 });
            return postStandard(server.url, `msg_${randomBytes(8).toString("hex")}`, {
              transfer_id: transfer.id,
              message_id: messageId,
              channel: "rcs",
              event: "read",
              timestamp: at(),
              provider: "cpaas@example",
            });
          },
          event: "READ",
          source: "standard",
          status: "READ",
          messageStatus: "READ",
        },
        {
          post: () => postGeneric(server.url, { event: "message.clicked", timestamp: at(), message_id: providerMessageId, channel: "rcs" }),
          event: "ACTION",
          source: "generic",
          status: "READ",
          messageStatus: "READ",
        },
      ];
      for (const step of steps) {
        const response = (await step.post()) as { status: number };
        expect(response.status).toBe(200);
        const update = await nextEvent();
        expect(update.event).toMatchObject({ transferId: transfer.id, event: step.event, source: step.source });
        expect(update.transfer.id).toBe(transfer.id);
        expect(update.transfer.status).toBe(step.status);
        expect(update.transfer.messages[0]?.status).toBe(step.messageStatus);
      }
      // Every frame matched a stored row.
      expect(await webhookEvents(acme, transfer.id)).toHaveLength(steps.length);
    } finally {
      updates.dispose();
      await client.dispose();
    }
  });

  it("every acknowledged event is durable and readable once folded", async () => {
    const { transfer, providerMessageId } = await sentTransfer();
    const payloads = Array.from({ length: 15 }, (_, index) => ({ event: "message.clicked", timestamp: at(index), message_id: providerMessageId }));
    const results = await Promise.all(payloads.map((payload) => postGeneric(server.url, payload)));
    const acknowledged = payloads.filter((_, index) => results[index]!.status === 200).map((payload) => payload.timestamp);
    expect(acknowledged).toHaveLength(payloads.length);
    const stored = (await history(acme, { transferId: transfer.id, event: "ACTION" })).map((event) => event.timestamp);
    expect(stored.sort()).toEqual(acknowledged.sort());
  });
});
