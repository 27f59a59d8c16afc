import type { Client } from "graphql-ws";
import { describe, expect, it } from "vitest";
import { encodeTransferCursor } from "../../src/domain/transfer-cursor.js";
import { RevokeTransferDocument, TransferUpdatedDocument } from "../generated/graphql.js";
import { graphql, subscribe } from "../helpers/graphql.js";
import { eventIdsInOrder, resumingSubscriber, storedSequence } from "../helpers/resuming-subscriber.js";
import { serverWithFakeCpaas } from "../helpers/server-fixture.js";
import { tokenFor } from "../helpers/server.js";
import { hasPostgres } from "../helpers/services.js";
import { firstOutcome } from "../helpers/subscriptions.js";
import { createTransfer, sentTransfer } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { postGeneric } from "../helpers/webhooks.js";

const click = (providerMessageId: string, at: number) => ({ event: "message.clicked", timestamp: new Date(at).toISOString(), message_id: providerMessageId });

/** transferUpdated(id, after): every update after a cursor, from the event log, then live. */
describe.runIf(hasPostgres() || process.env.CI === "true")("resuming transferUpdated after a cursor", () => {
  const fixture = serverWithFakeCpaas();
  const client = (token: string): Client => fixture.client({ Authorization: `Bearer ${token}` });

  describe("succeeding cases", () => {
    it("each update carries a cursor (null for the current state); resuming replays what followed from the log, in order, then goes live", async () => {
      const token = await tokenFor(uniqueTenant("resume"));
      const { transfer, providerMessageId } = await sentTransfer(fixture.server, fixture.cpaas, token, "+14165555001");
      const first = subscribe(client(token), TransferUpdatedDocument, { id: transfer.id });
      expect((await first.next()).data?.transferUpdated).toMatchObject({ event: null, cursor: null });
      const t0 = Date.now();
      for (const offset of [1, 2]) expect((await postGeneric(fixture.server.url, click(providerMessageId, t0 + offset))).status).toBe(200);
      const seen = [(await first.next()).data!.transferUpdated, (await first.next()).data!.transferUpdated];
      expect(seen.map((update) => update.cursor)).toEqual([expect.any(String), expect.any(String)]);
      expect(seen[0]!.cursor).not.toBe(seen[1]!.cursor);
      first.dispose();

      // While nobody listens: two more clicks through the applier.
      for (const offset of [3, 4]) expect((await postGeneric(fixture.server.url, click(providerMessageId, t0 + offset))).status).toBe(200);
      const all = await eventIdsInOrder(fixture.server.databaseUrl!, transfer.id);
      const missed = all.slice(all.indexOf(seen[0]!.event!.id) + 1);
      expect(missed).toHaveLength(3);

      const resumed = subscribe(client(token), TransferUpdatedDocument, { id: transfer.id, after: seen[0]!.cursor });
      const replayed = [];
      for (let i = 0; i < missed.length; i++) replayed.push((await resumed.next()).data!.transferUpdated);
      expect(replayed.map((update) => update.event?.id)).toEqual(missed);
      expect(replayed[0]!.cursor).toBe(seen[1]!.cursor);
      // Live again, through Ackline's own inline path this time: one REVOKED per message.
      const revoked = await graphql(fixture.server.url, RevokeTransferDocument, { id: transfer.id }, token);
      expect(revoked.body.errors).toBeUndefined();
      const revocations = (await eventIdsInOrder(fixture.server.databaseUrl!, transfer.id)).slice(all.length);
      expect(revocations.length).toBeGreaterThan(0);
      const live = [];
      for (let i = 0; i < revocations.length; i++) live.push((await resumed.next()).data!.transferUpdated.event!);
      expect(live.map((event) => event.id)).toEqual(revocations);
      expect(live.every((event) => event.event === "REVOKED")).toBe(true);
      // Nothing is repeated.
      await expect(resumed.next(1500)).rejects.toThrow(/no subscription payload/);
      resumed.dispose();
      // Numbered by both paths (Ackline's own events inline, the webhooks' by the applier): 1, 2, 3… with none skipped.
      const { eventSeqs, transferSeq } = await storedSequence(fixture.server.databaseUrl!, transfer.id);
      expect(eventSeqs).toEqual(Array.from({ length: eventSeqs.length }, (_, index) => index + 1));
      expect(transferSeq).toBe(eventSeqs.length);
    });

    it("replay then live while webhooks keep arriving: every subscriber gets each later event once, in the log's order", async () => {
      const token = await tokenFor(uniqueTenant("seam"));
      const { transfer, providerMessageId } = await sentTransfer(fixture.server, fixture.cpaas, token, "+14165555002");
      const t0 = Date.now();
      expect((await postGeneric(fixture.server.url, click(providerMessageId, t0))).status).toBe(200);
      const probe = subscribe(client(token), TransferUpdatedDocument, { id: transfer.id, after: null });
      expect((await probe.next()).data?.transferUpdated.event).toBeNull();
      expect((await postGeneric(fixture.server.url, click(providerMessageId, t0 + 1))).status).toBe(200);
      const start = (await probe.next()).data!.transferUpdated;
      probe.dispose();

      // Subscribers join one after another while 40 clicks are stored: each one's replay meets the live stream at a different place.
      const subscribers: Array<ReturnType<typeof resumingSubscriber>> = [];
      const joining = (async () => {
        for (let i = 0; i < 8; i++) {
          subscribers.push(resumingSubscriber(client(token), transfer.id, { after: start.cursor! }));
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
      })();
      for (let i = 2; i < 42; i++) expect((await postGeneric(fixture.server.url, click(providerMessageId, t0 + i))).status).toBe(200);
      await joining;

      const all = await eventIdsInOrder(fixture.server.databaseUrl!, transfer.id);
      const expected = all.slice(all.indexOf(start.event!.id) + 1);
      expect(expected).toHaveLength(40);
      for (const subscriber of subscribers) {
        await eventually(() => (subscriber.events.length >= expected.length ? true : undefined), "every later event to reach each subscriber");
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const subscriber of subscribers) {
        subscriber.stop();
        expect(subscriber.failures).toEqual([]);
        expect(subscriber.interruptions).toEqual([]);
        expect(subscriber.events.map((event) => event.id)).toEqual(expected);
      }
    });
  });

  describe("failing cases", () => {
    it("a cursor this API did not issue for the transfer is BAD_USER_INPUT", async () => {
      const token = await tokenFor(uniqueTenant("cursor"));
      const { transfer } = await sentTransfer(fixture.server, fixture.cpaas, token, "+14165555003");
      const other = await createTransfer(fixture.server, token, "+14165555004");
      const ws = client(token);
      const othersCursor = subscribe(ws, TransferUpdatedDocument, { id: other.id });
      await othersCursor.next();
      othersCursor.dispose();
      const bad = [
        "not a cursor",
        "",
        Buffer.from("garbage").toString("base64url"),
        Buffer.from(`${transfer.id}:abc`).toString("base64url"),
        Buffer.from(`${transfer.id}:-1`).toString("base64url"),
        encodeTransferCursor(other.id, 1),
        // Ahead of every update the transfer has had.
        encodeTransferCursor(transfer.id, 1000),
      ];
      for (const after of bad) {
        const outcome = await firstOutcome(ws, TransferUpdatedDocument, { id: transfer.id, after });
        expect(outcome.kind, after).toBe("errors");
        expect(outcome.kind === "errors" && outcome.errors.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
      }
    });

    it("another tenant's cursor gives nothing of that tenant: NOT_FOUND on its transfer, BAD_USER_INPUT on one's own", async () => {
      const tokenA = await tokenFor(uniqueTenant("tenant-a"));
      const tokenB = await tokenFor(uniqueTenant("tenant-b"));
      const a = await sentTransfer(fixture.server, fixture.cpaas, tokenA, "+14165555005");
      const b = await createTransfer(fixture.server, tokenB, "+14165555006");
      const watchA = subscribe(client(tokenA), TransferUpdatedDocument, { id: a.transfer.id });
      await watchA.next();
      expect((await postGeneric(fixture.server.url, click(a.providerMessageId, Date.now()))).status).toBe(200);
      const cursorA = (await watchA.next()).data!.transferUpdated.cursor!;
      watchA.dispose();

      const wsB = client(tokenB);
      const onA = await firstOutcome(wsB, TransferUpdatedDocument, { id: a.transfer.id, after: encodeTransferCursor(a.transfer.id, 0) });
      expect(onA.kind === "errors" && onA.errors.map((error) => error.extensions?.code)).toEqual(["NOT_FOUND"]);
      const onOwn = await firstOutcome(wsB, TransferUpdatedDocument, { id: b.id, after: cursorA });
      expect(onOwn.kind === "errors" && onOwn.errors.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    });
  });
});
