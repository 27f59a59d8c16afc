import { describe, expect, it } from "vitest";
import { CreateTransferDocument, TransferUpdatedDocument, type CreateTransferInput } from "../generated/graphql.js";
import { graphql, subscribe } from "../helpers/graphql.js";
import { serverWithFakeCpaas } from "../helpers/server-fixture.js";
import { tokenFor } from "../helpers/server.js";
import { firstOutcome, nextClose } from "../helpers/subscriptions.js";
import { uniqueTenant } from "../helpers/wait.js";
import { postGeneric } from "../helpers/webhooks.js";

const CLOSE_FORBIDDEN = 4403;

/** transferUpdated over graphql-ws: authentication, expiry, tenancy and the payloads themselves. */
describe("transferUpdated over graphql-ws", () => {
  const fixture = serverWithFakeCpaas();
  const client = fixture.client;

  async function createTransfer(token: string, overrides: Partial<CreateTransferInput> = {}) {
    const result = await graphql(
      fixture.server.url,
      CreateTransferDocument,
      { input: { recipient: { phone: "+14165550100" }, fileName: "q4.zip", fileSizeBytes: 10, senderName: "Acme", ...overrides } },
      token,
    );
    expect(result.body.errors).toBeUndefined();
    return result.body.data!.createTransfer;
  }

  /** A transfer whose RCS message the CPaaS accepted, with the provider's id to post receipts for. */
  async function sentTransfer(token: string, phone = "+14165550100") {
    const transfer = await createTransfer(token, { recipient: { phone } });
    const send = await fixture.cpaas.waitForSend(transfer.id, 20_000);
    return { transfer, providerMessageId: send.providerMessageId! };
  }

  describe("failing cases", () => {
    const refused: Array<[string, () => Promise<Record<string, unknown> | undefined>]> = [
      ["no connectionParams", async () => undefined],
      ["connectionParams without a token", async () => ({})],
      ["an empty Authorization", async () => ({ Authorization: "" })],
      ["a bare Bearer", async () => ({ Authorization: "Bearer " })],
      ["a token that is not a JWT", async () => ({ Authorization: "Bearer not-a-jwt" })],
      ["a bad signature", async () => ({ Authorization: `Bearer ${await tokenFor("acme", { secret: "some-other-secret-with-enough-entropy-000" })}` })],
      ["the wrong audience", async () => ({ Authorization: `Bearer ${await tokenFor("acme", { audience: "someone-else" })}` })],
      ["an expired token", async () => ({ Authorization: `Bearer ${await tokenFor("acme", { expiresIn: Math.floor(Date.now() / 1000) - 60 })}` })],
    ];

    it.each(refused)("%s: the socket is closed with 4403", async (_label, params) => {
      const ws = client(await params());
      const closed = nextClose(ws);
      const outcome = await firstOutcome(ws, TransferUpdatedDocument, { id: "tx_anything" });
      expect(outcome).toMatchObject({ kind: "closed", code: CLOSE_FORBIDDEN });
      expect((await closed).code).toBe(CLOSE_FORBIDDEN);
    });

    it("a token that expires mid-connection closes the socket with 4403 once it has expired", async () => {
      const tenant = uniqueTenant("expiring");
      const { transfer } = await sentTransfer(await tokenFor(tenant));
      // Long enough to connect on a loaded machine, short enough to wait for.
      const shortLived = await tokenFor(tenant, { expiresIn: "5s" });
      const expiresAtMs = (JSON.parse(Buffer.from(shortLived.split(".")[1]!, "base64url").toString()) as { exp: number }).exp * 1000;

      const ws = client({ Authorization: `Bearer ${shortLived}` });
      const closed = nextClose(ws);
      const updates = subscribe(ws, TransferUpdatedDocument, { id: transfer.id });
      const first = await updates.next(15_000);
      expect(first.data?.transferUpdated.transfer.id).toBe(transfer.id);

      const close = await closed;
      expect(close.code).toBe(CLOSE_FORBIDDEN);
      // It was accepted while the token was valid and cut off once it was not (timers may fire a
      // few milliseconds early, hence the slack).
      expect(Date.now()).toBeGreaterThanOrEqual(expiresAtMs - 250);
      await expect(updates.next(5_000)).rejects.toThrow();
    });

    it("another tenant's transfer ends the subscription with NOT_FOUND", async () => {
      const foreign = await createTransfer(await tokenFor(uniqueTenant("owner")));
      const ws = client({ Authorization: `Bearer ${await tokenFor(uniqueTenant("intruder"))}` });
      const outcome = await firstOutcome(ws, TransferUpdatedDocument, { id: foreign.id });
      expect(outcome.kind).toBe("errors");
      expect(outcome.kind === "errors" && outcome.errors.map((error) => error.extensions?.code)).toEqual(["NOT_FOUND"]);
    });

    it("an unknown id ends the subscription with NOT_FOUND, and the connection stays usable", async () => {
      const tenant = uniqueTenant("unknown");
      const own = await createTransfer(await tokenFor(tenant));
      const ws = client({ Authorization: `Bearer ${await tokenFor(tenant)}` });
      const outcome = await firstOutcome(ws, TransferUpdatedDocument, { id: "tx_doesnotexist" });
      expect(outcome.kind).toBe("errors");
      expect(outcome.kind === "errors" && outcome.errors.map((error) => error.extensions?.code)).toEqual(["NOT_FOUND"]);

      const again = await firstOutcome(ws, TransferUpdatedDocument, { id: own.id });
      expect(again).toMatchObject({ kind: "data", data: { transferUpdated: { event: null, transfer: { id: own.id } } } });
    });

    it("a token without transfers:read is FORBIDDEN", async () => {
      const tenant = uniqueTenant("scopeless");
      const own = await createTransfer(await tokenFor(tenant));
      const ws = client({ Authorization: `Bearer ${await tokenFor(tenant, { scopes: ["transfers:write", "receipts:read"] })}` });
      const outcome = await firstOutcome(ws, TransferUpdatedDocument, { id: own.id });
      expect(outcome.kind).toBe("errors");
      expect(outcome.kind === "errors" && outcome.errors.map((error) => error.extensions?.code)).toEqual(["FORBIDDEN"]);
    });

    it("a tenant B subscriber never receives tenant A's events", async () => {
      const tokenA = await tokenFor(uniqueTenant("tenant-a"));
      const tokenB = await tokenFor(uniqueTenant("tenant-b"));
      // The same phone for both tenants: correlation is by provider id, never by recipient.
      const a = await sentTransfer(tokenA, "+14165550123");
      const b = await sentTransfer(tokenB, "+14165550123");

      const wsA = client({ Authorization: `Bearer ${tokenA}` });
      const wsB = client({ Authorization: `Bearer ${tokenB}` });
      const updatesA = subscribe(wsA, TransferUpdatedDocument, { id: a.transfer.id });
      const updatesB = subscribe(wsB, TransferUpdatedDocument, { id: b.transfer.id });
      expect((await updatesA.next()).data?.transferUpdated.transfer.id).toBe(a.transfer.id);
      expect((await updatesB.next()).data?.transferUpdated.transfer.id).toBe(b.transfer.id);

      // A B subscription to A's transfer is refused outright.
      const probe = await firstOutcome(wsB, TransferUpdatedDocument, { id: a.transfer.id });
      expect(probe.kind).toBe("errors");

      const t0 = Date.now();
      for (const [offset, event] of [[1, "message.sent"], [2, "message.delivered"], [3, "message.read"]] as const) {
        const posted = await postGeneric(fixture.server.url, { event, timestamp: new Date(t0 + offset).toISOString(), message_id: a.providerMessageId });
        expect(posted.status).toBe(200);
      }
      const seenByA: string[] = [];
      while (seenByA.length < 3) {
        const update = await updatesA.next();
        expect(update.data?.transferUpdated.transfer.id).toBe(a.transfer.id);
        seenByA.push(update.data!.transferUpdated.event!.event);
      }
      expect(seenByA).toEqual(["SENT", "DELIVERED", "READ"]);

      // A's events were published before this one: B's next payload must be its own.
      const posted = await postGeneric(fixture.server.url, { event: "message.sent", timestamp: new Date(t0 + 10).toISOString(), message_id: b.providerMessageId });
      expect(posted.status).toBe(200);
      const nextForB = await updatesB.next();
      expect(nextForB.data?.transferUpdated.transfer.id).toBe(b.transfer.id);
      expect(nextForB.data?.transferUpdated.event).toMatchObject({ transferId: b.transfer.id, event: "SENT" });
      expect(nextForB.data?.transferUpdated.transfer.status).toBe("SENT");
      updatesA.dispose();
      updatesB.dispose();
    });
  });

  describe("succeeding cases", () => {
    it("the first payload is the current state with event null", async () => {
      const token = await tokenFor(uniqueTenant("current"));
      const { transfer, providerMessageId } = await sentTransfer(token);
      const posted = await postGeneric(fixture.server.url, { event: "message.delivered", timestamp: new Date().toISOString(), message_id: providerMessageId });
      expect(posted.status).toBe(200);

      const ws = client({ Authorization: `Bearer ${token}` });
      const updates = subscribe(ws, TransferUpdatedDocument, { id: transfer.id });
      const first = await updates.next();
      expect(first.errors).toBeUndefined();
      expect(first.data?.transferUpdated.event).toBeNull();
      expect(first.data?.transferUpdated.transfer).toMatchObject({
        id: transfer.id,
        status: "DELIVERED",
        fileName: transfer.fileName,
        messages: [{ id: transfer.messages[0]!.id, status: "DELIVERED", providerMessageId }],
      });
      updates.dispose();
    });

    it("every stored event is streamed, status-changing or not, with the transfer as it now stands", async () => {
      const token = await tokenFor(uniqueTenant("stream"));
      const { transfer, providerMessageId } = await sentTransfer(token);
      const ws = client({ Authorization: `Bearer ${token}` });
      const updates = subscribe(ws, TransferUpdatedDocument, { id: transfer.id });
      expect((await updates.next()).data?.transferUpdated.event).toBeNull();

      const t0 = Date.now();
      const deliveredAt = new Date(t0 + 1).toISOString();
      expect((await postGeneric(fixture.server.url, { event: "message.delivered", timestamp: deliveredAt, message_id: providerMessageId, channel: "rcs" })).status).toBe(200);
      const delivered = await updates.next();
      expect(delivered.data?.transferUpdated.event).toMatchObject({ event: "DELIVERED", transferId: transfer.id, timestamp: deliveredAt, channel: "RCS" });
      expect(delivered.data?.transferUpdated.transfer.status).toBe("DELIVERED");

      expect((await postGeneric(fixture.server.url, { event: "message.clicked", timestamp: new Date(t0 + 2).toISOString(), message_id: providerMessageId })).status).toBe(200);
      const clicked = await updates.next();
      expect(clicked.data?.transferUpdated.event).toMatchObject({ event: "ACTION", transferId: transfer.id });
      expect(clicked.data?.transferUpdated.transfer.status).toBe("DELIVERED");

      // A late `sent` is stored and streamed, yet never moves the transfer back.
      expect((await postGeneric(fixture.server.url, { event: "message.sent", timestamp: new Date(t0).toISOString(), message_id: providerMessageId })).status).toBe(200);
      const late = await updates.next();
      expect(late.data?.transferUpdated.event?.event).toBe("SENT");
      expect(late.data?.transferUpdated.transfer.status).toBe("DELIVERED");
      updates.dispose();
    });

    const accepted: Array<[string, (token: string) => Record<string, unknown>]> = [
      ["Authorization: Bearer <jwt>", (token) => ({ Authorization: `Bearer ${token}` })],
      ["a lower-case authorization key", (token) => ({ authorization: `Bearer ${token}` })],
      ["the bare token", (token) => ({ Authorization: token })],
      ["the bare token under a lower-case key", (token) => ({ authorization: token })],
    ];

    it.each(accepted)("%s is accepted", async (_label, params) => {
      const tenant = uniqueTenant("params");
      const token = await tokenFor(tenant);
      const transfer = await createTransfer(token);
      const ws = client(params(token));
      const outcome = await firstOutcome(ws, TransferUpdatedDocument, { id: transfer.id });
      expect(outcome).toMatchObject({ kind: "data", data: { transferUpdated: { event: null, transfer: { id: transfer.id } } } });
    });
  });
});
