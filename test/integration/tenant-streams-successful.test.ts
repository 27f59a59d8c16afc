import { describe, expect, it } from "vitest";
import { ReceiptEventAddedDocument, ReceiptEventsDocument, RecentTransfersDocument, TransfersUpdatedDocument, TransferUpdatedDocument } from "../generated/graphql.js";
import { graphql, subscribe } from "../helpers/graphql.js";
import { serverWithFakeCpaas } from "../helpers/server-fixture.js";
import { tokenFor } from "../helpers/server.js";
import { hasRedis } from "../helpers/services.js";
import { createTransfer, sentTransfer } from "../helpers/transfers.js";
import { uniqueTenant } from "../helpers/wait.js";
import { click, postGeneric } from "../helpers/webhooks.js";

const receipt = (providerMessageId: string, event: string, at: number) => ({ event, timestamp: new Date(at).toISOString(), message_id: providerMessageId });

/** The tenant-wide streams, routed through Redis by tenant topic: what they carry, to whom, and how a client catches up. */
describe.runIf(hasRedis() || process.env.CI === "true")("transfersUpdated and receiptEventAdded", () => {
  const fixture = serverWithFakeCpaas();
  const as = (token: string) => fixture.client({ Authorization: `Bearer ${token}` });

  it("receiptEventAdded carries every new event of the tenant that matches its filter, and only those", async () => {
    const token = await tokenFor(uniqueTenant("filters"));
    const first = await sentTransfer(fixture.server, fixture.cpaas, token, "+14165550201");
    const second = await sentTransfer(fixture.server, fixture.cpaas, token, "+14165550202");
    const client = as(token);
    const everything = subscribe(client, ReceiptEventAddedDocument, {});
    const clicks = subscribe(client, ReceiptEventAddedDocument, { filter: { event: "ACTION" } });
    const ofSecond = subscribe(client, ReceiptEventAddedDocument, { filter: { transferId: second.transfer.id } });
    const sinceLater = subscribe(client, ReceiptEventAddedDocument, { filter: { from: new Date(Date.now() + 60_000).toISOString() } });
    // Subscriptions are set up before the first event: a query on the same socket answers after them.
    await new Promise((resolve) => setTimeout(resolve, 300));

    const t0 = Date.now();
    expect((await postGeneric(fixture.server.url, receipt(first.providerMessageId, "message.delivered", t0))).status).toBe(200);
    expect((await postGeneric(fixture.server.url, click(second.providerMessageId, t0 + 1))).status).toBe(200);
    expect((await postGeneric(fixture.server.url, receipt(second.providerMessageId, "message.read", t0 + 120_000))).status).toBe(200);

    const all = [await everything.next(), await everything.next(), await everything.next()].map((result) => result.data!.receiptEventAdded);
    expect(all.map((event) => [event.transferId, event.event])).toEqual([
      [first.transfer.id, "DELIVERED"],
      [second.transfer.id, "ACTION"],
      [second.transfer.id, "READ"],
    ]);
    expect((await clicks.next()).data!.receiptEventAdded).toMatchObject({ transferId: second.transfer.id, event: "ACTION" });
    expect((await ofSecond.next()).data!.receiptEventAdded).toMatchObject({ event: "ACTION" });
    expect((await ofSecond.next()).data!.receiptEventAdded).toMatchObject({ event: "READ" });
    expect((await sinceLater.next()).data!.receiptEventAdded).toMatchObject({ event: "READ", channel: "RCS" });
    // Nothing else matched: the next frames the filtered ones get are from a later, matching event.
    expect((await postGeneric(fixture.server.url, click(first.providerMessageId, t0 + 180_000))).status).toBe(200);
    expect((await clicks.next()).data!.receiptEventAdded).toMatchObject({ transferId: first.transfer.id, event: "ACTION" });
    expect((await sinceLater.next()).data!.receiptEventAdded).toMatchObject({ transferId: first.transfer.id, event: "ACTION" });
  });

  it("transfersUpdated carries every change of any of the tenant's transfers: creation, sending, receipts", async () => {
    const token = await tokenFor(uniqueTenant("changes"));
    const updates = subscribe(as(token), TransfersUpdatedDocument, {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sent = await sentTransfer(fixture.server, fixture.cpaas, token, "+14165550203");
    expect((await postGeneric(fixture.server.url, receipt(sent.providerMessageId, "message.delivered", Date.now()))).status).toBe(200);
    const seen: Array<{ status: string; event: string | null }> = [];
    while (seen.at(-1)?.event !== "DELIVERED") {
      const update = (await updates.next()).data!.transfersUpdated;
      expect(update.transfer.id).toBe(sent.transfer.id);
      seen.push({ status: update.transfer.status, event: update.event?.event ?? null });
    }
    expect(seen[0]).toEqual({ status: "QUEUED", event: "QUEUED" });
    expect(seen.at(-1)).toEqual({ status: "DELIVERED", event: "DELIVERED" });
    // What a dashboard starts from before the stream: the tenant's recent transfers, newest first.
    const later = await createTransfer(fixture.server, token, "+14165550207");
    const recent = await graphql(fixture.server.url, RecentTransfersDocument, { first: 5 }, token);
    expect(recent.body.data!.transfers.map((transfer) => transfer.id)).toEqual([later.id, sent.transfer.id]);
  });

  it("a tenant never sees another's transfers or events, on either stream", async () => {
    const [tokenA, tokenB] = [await tokenFor(uniqueTenant("tenant-a")), await tokenFor(uniqueTenant("tenant-b"))];
    const clientB = as(tokenB);
    const eventsB = subscribe(clientB, ReceiptEventAddedDocument, {});
    const transfersB = subscribe(clientB, TransfersUpdatedDocument, {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ofA = await sentTransfer(fixture.server, fixture.cpaas, tokenA, "+14165550204");
    expect((await postGeneric(fixture.server.url, click(ofA.providerMessageId, Date.now()))).status).toBe(200);
    // B's own activity afterwards: the first frame B gets on each stream is B's.
    const ofB = await sentTransfer(fixture.server, fixture.cpaas, tokenB, "+14165550205");
    expect((await postGeneric(fixture.server.url, click(ofB.providerMessageId, Date.now()))).status).toBe(200);
    for (let event = ""; event !== "ACTION"; ) {
      const added = (await eventsB.next()).data!.receiptEventAdded;
      expect(added.transferId).toBe(ofB.transfer.id);
      event = added.event;
    }
    for (let event: string | undefined = ""; event !== "ACTION"; ) {
      const update = (await transfersB.next()).data!.transfersUpdated;
      expect(update.transfer.id).toBe(ofB.transfer.id);
      event = update.event?.event;
    }
  });

  it("a client that missed events catches up from the last cursor it got: receiptEvents(after:) and transferUpdated(after:)", async () => {
    const token = await tokenFor(uniqueTenant("resume"));
    const sent = await sentTransfer(fixture.server, fixture.cpaas, token, "+14165550206");
    const client = as(token);
    const events = subscribe(client, ReceiptEventAddedDocument, { filter: { transferId: sent.transfer.id } });
    const transfers = subscribe(client, TransfersUpdatedDocument, {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    const t0 = Date.now();
    expect((await postGeneric(fixture.server.url, click(sent.providerMessageId, t0))).status).toBe(200);
    const last = (await events.next()).data!.receiptEventAdded;
    const lastUpdate = (await transfers.next()).data!.transfersUpdated;
    expect(lastUpdate.event?.id).toBe(last.id);
    events.dispose();
    transfers.dispose();

    // Missed while away.
    for (const offset of [1, 2]) expect((await postGeneric(fixture.server.url, click(sent.providerMessageId, t0 + offset))).status).toBe(200);

    // A live event's cursor stands before every transaction still running when it was folded, its
    // own included: the page may repeat what the client has (dropped by id) but misses nothing.
    const page = await graphql(fixture.server.url, ReceiptEventsDocument, { filter: { transferId: sent.transfer.id }, after: last.cursor }, token);
    const caughtUp = page.body.data!.receiptEvents.edges.filter((edge) => edge.node.id !== last.id);
    expect(caughtUp.map((edge) => edge.node.timestamp)).toEqual([t0 + 1, t0 + 2].map((at) => new Date(at).toISOString()));
    const replay = subscribe(client, TransferUpdatedDocument, { id: sent.transfer.id, after: lastUpdate.cursor });
    const replayed = [(await replay.next()).data!.transferUpdated, (await replay.next()).data!.transferUpdated];
    expect(replayed.map((update) => update.event?.timestamp)).toEqual([t0 + 1, t0 + 2].map((at) => new Date(at).toISOString()));
  });
});
