import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateTransferDocument, ReceiptEventsDocument, type ReceiptEventFilter } from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { graphql, postGraphQL } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { sentTransfer } from "../helpers/transfers.js";
import { uniqueTenant } from "../helpers/wait.js";
import { postGeneric } from "../helpers/webhooks.js";

describe("receiptEvents: the new filters, and receipts' carrier and region reaching statistics", () => {
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let server: TestServer;
  let token: string;
  let a: Awaited<ReturnType<typeof sentTransfer>>;
  let b: Awaited<ReturnType<typeof sentTransfer>>;

  const events = async (filter: ReceiptEventFilter) => {
    const page = await graphql(server.url, ReceiptEventsDocument, { filter, first: 500 }, token);
    expect(page.body.errors).toBeUndefined();
    return page.body.data!.receiptEvents.edges.map((edge) => edge.node);
  };
  const delivered = (providerMessageId: string, carrier: string, region: string) =>
    postGeneric(server.url, { event: "message.delivered", timestamp: new Date().toISOString(), message_id: providerMessageId, carrier, region });

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url } });
    token = await tokenFor(uniqueTenant("history"));
    a = await sentTransfer(server, cpaas, token, "+14165550101");
    // B comes from another sender.
    const input = { recipient: { phone: "+14165550102" }, fileName: "b.pdf", fileSizeBytes: 1, senderName: "Zeta Bank" };
    const created = await graphql(server.url, CreateTransferDocument, { input }, token);
    const send = await cpaas.waitForSend(created.body.data!.createTransfer.id, 20_000);
    b = { transfer: created.body.data!.createTransfer, messageId: created.body.data!.createTransfer.messages[0]!.id, providerMessageId: send.providerMessageId! };
    expect((await delivered(a.providerMessageId, "310260", "US")).status).toBe(200);
    expect((await delivered(b.providerMessageId, "20801", "EU")).status).toBe(200);
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
  });

  it("carrier and region: the events that named them", async () => {
    expect((await events({ carrier: "310260" })).map((event) => [event.transferId, event.event, event.carrier, event.region])).toEqual([
      [a.transfer.id, "DELIVERED", "310260", "US"],
    ]);
    expect((await events({ region: "EU" })).map((event) => [event.transferId, event.carrier])).toEqual([[b.transfer.id, "20801"]]);
    expect(await events({ carrier: "310260", region: "EU" })).toEqual([]);
  });

  it("messageId: that message's events only", async () => {
    const own = await events({ messageId: a.messageId });
    expect(own.length).toBeGreaterThanOrEqual(2);
    expect(new Set(own.map((event) => event.messageId))).toEqual(new Set([a.messageId]));
    expect(own.map((event) => event.event)).toContain("DELIVERED");
  });

  it("senderName: the events of that sender's transfers", async () => {
    const zeta = await events({ senderName: "Zeta Bank" });
    expect(zeta.length).toBeGreaterThanOrEqual(2);
    expect(new Set(zeta.map((event) => event.transferId))).toEqual(new Set([b.transfer.id]));
    expect(await events({ senderName: "Zeta" })).toEqual([]);
  });

  it("the fold keeps the message's carrier, region and first delivery for statistics", async () => {
    const result = await postGraphQL(
      server.url,
      { query: "{ receiptStats(groupBy: [CARRIER, REGION]) { key { carrier region } messages sent delivered timeToDeliver { p50 } } }" },
      token,
    );
    const rows = (result.body.data as { receiptStats: Array<{ key: { carrier: string }; delivered: number; timeToDeliver: { p50: number } }> }).receiptStats;
    expect(rows.map((row) => [row.key, row.delivered])).toEqual([
      [{ carrier: "20801", region: "EU" }, 1],
      [{ carrier: "310260", region: "US" }, 1],
    ]);
    expect(rows[0]!.timeToDeliver.p50).toBeGreaterThanOrEqual(0);
  });
});

describe("receiptEvents pagination while events commit out of order", () => {
  let server: TestServer;
  let sql: postgres.Sql;
  let token: string;
  let tenant: string;
  let counter = 0;

  /** Inserts a visible event of the tenant in the given transaction (or on its own). */
  const insert = async (db: postgres.Sql | postgres.TransactionSql, occurredAt = new Date()): Promise<number> => {
    counter += 1;
    const [row] = await db<Array<{ id: string }>>`
      INSERT INTO receipt_events (tenant_id, transfer_id, event, occurred_at, provider, source, raw, dedupe_key)
      VALUES (${tenant}, 'tr_page', 'DELIVERED', ${occurredAt}, 'generic', 'generic', '{}'::jsonb, ${`page-${tenant}-${counter}`})
      RETURNING id`;
    return Number(row!.id);
  };
  const page = async (after: string | null, first = 7) => {
    const result = await graphql(server.url, ReceiptEventsDocument, { first, after }, token);
    expect(result.body.errors).toBeUndefined();
    return result.body.data!.receiptEvents;
  };
  /** Follows endCursor until a page comes back empty; returns the ids seen and where it stopped. */
  const drain = async (from: string | null) => {
    const seen: number[] = [];
    let cursor = from;
    for (;;) {
      const current = await page(cursor);
      seen.push(...current.edges.map((edge) => Number(edge.node.id)));
      if (current.edges.length === 0) return { seen, cursor };
      cursor = current.pageInfo.endCursor;
    }
  };

  beforeAll(async () => {
    server = await startTestServer();
    sql = postgres(server.databaseUrl!, { max: 8, onnotice: () => {} });
    tenant = uniqueTenant("paging");
    token = await tokenFor(tenant);
  });
  afterAll(async () => {
    await sql?.end();
    await server?.close();
  });

  it("an event with a smaller id and an older time that commits later is still read, once", async () => {
    const before = await insert(sql);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: (id: number) => void;
    const lateId = new Promise<number>((resolve) => (inserted = resolve));
    // Takes its id (and an older provider time) first, commits last.
    const late = sql.begin(async (tx) => {
      inserted(await insert(tx, new Date(Date.now() - 60_000)));
      await held;
    });
    const early = await insert(sql);
    expect(await lateId).toBeLessThan(early);

    const first = await drain(null);
    // Nothing past the open transaction yet: `early` would otherwise be read before `late` commits.
    expect(first.seen).toEqual([before]);
    release();
    await late;
    const rest = await drain(first.cursor);
    expect(rest.seen).toEqual([await lateId, early]);
  });

  it("a reader following endCursor while writers commit in random order sees every event exactly once", async () => {
    const { seen: existing, cursor: start } = await drain(null);
    const written: number[] = [];
    let writing = true;
    const writers = Array.from({ length: 4 }, async () => {
      for (let round = 0; round < 15; round += 1) {
        await sql.begin(async (tx) => {
          for (let index = 0; index < 1 + (round % 3); index += 1) written.push(await insert(tx, new Date(Date.now() - Math.random() * 3_600_000)));
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
        });
      }
    });
    const all = Promise.all(writers).then(() => (writing = false));
    const seen: number[] = [];
    let cursor = start;
    while (writing) {
      const current = await page(cursor);
      seen.push(...current.edges.map((edge) => Number(edge.node.id)));
      cursor = current.pageInfo.endCursor ?? cursor;
    }
    await all;
    seen.push(...(await drain(cursor)).seen);
    expect(written.length).toBe(4 * (5 * 1 + 5 * 2 + 5 * 3));
    expect(seen.length).toBe(new Set(seen).size);
    expect([...seen].sort((x, y) => x - y)).toEqual([...written].sort((x, y) => x - y));
    expect(seen.some((id) => existing.includes(id))).toBe(false);
  });

  it("refuses a cursor it did not issue", async () => {
    const result = await graphql(server.url, ReceiptEventsDocument, { after: Buffer.from("2026-01-01T00:00:00.000Z|5").toString("base64url") }, token);
    expect(result.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
