import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateTransferDocument,
  GetTransferDocument,
  ReceiptEventsDocument,
  type CreateTransferInput,
  type ReceiptEventFilter,
  type ReceiptEventsQuery,
} from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { graphql } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { postGeneric } from "../helpers/webhooks.js";

type EventNode = ReceiptEventsQuery["receiptEvents"]["edges"][number]["node"];

const DAY_MS = 24 * 3600 * 1000;

/** The succeeding GraphQL cases: creating transfers, reading them, and the receipt history. */
describe("GraphQL API (succeeding cases)", () => {
  let server: TestServer;
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, CPAAS_TOKEN: "cpaas-token" } });
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
  });

  const input = (overrides: Partial<CreateTransferInput> = {}): CreateTransferInput => ({
    recipient: { phone: "+14165550100" },
    fileName: "q4.zip",
    fileSizeBytes: 1_234_567,
    senderName: "Acme DataOps",
    description: "Q4 data",
    ...overrides,
  });

  async function create(token: string, overrides: Partial<CreateTransferInput> = {}) {
    const result = await graphql(server.url, CreateTransferDocument, { input: input(overrides) }, token);
    expect(result.body.errors).toBeUndefined();
    expect(result.status).toBe(200);
    return result.body.data!.createTransfer;
  }

  /**
   * Creates a fresh phone transfer and waits until the CPaaS accepted it: the dispatcher claims due
   * messages oldest first, so anything queued before it has been sent by then.
   */
  async function barrier(token: string): Promise<void> {
    const transfer = await create(token, { recipient: { phone: "+14165550199" }, fileName: "barrier.txt" });
    await cpaas.waitForSend(transfer.id, 20_000);
  }

  async function listAll(token: string, filter?: ReceiptEventFilter): Promise<EventNode[]> {
    const result = await graphql(server.url, ReceiptEventsDocument, { filter, first: 500 }, token);
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data!.receiptEvents.pageInfo.hasNextPage).toBe(false);
    return result.body.data!.receiptEvents.edges.map((edge) => edge.node);
  }

  describe("createTransfer", () => {
    it("a phone recipient gets one RCS message, queued, through the CPaaS", async () => {
      const token = await tokenFor(uniqueTenant("phone"));
      const transfer = await create(token);
      expect(transfer.id).toMatch(/^tx_/);
      expect(transfer.status).toBe("QUEUED");
      expect(transfer).toMatchObject({ fileName: "q4.zip", fileSizeBytes: 1_234_567, senderName: "Acme DataOps", description: "Q4 data" });
      expect(transfer.recipient).toEqual({ phone: "+14165550100", email: null });
      expect(transfer.messages).toHaveLength(1);
      expect(transfer.messages[0]).toMatchObject({ channel: "RCS", provider: "cpaas", status: "QUEUED", providerMessageId: null });

      const send = await cpaas.waitForSend(transfer.id, 20_000);
      expect(send.body).toMatchObject({ to: "+14165550100", type: "rcs", client_message_id: transfer.messages[0]!.id });
    });

    it("a phone and an email get an RCS message and an email copy", async () => {
      const token = await tokenFor(uniqueTenant("both"));
      const transfer = await create(token, { recipient: { phone: "+14165550101", email: "ops@example.com" } });
      expect(transfer.recipient).toEqual({ phone: "+14165550101", email: "ops@example.com" });
      expect(transfer.messages.map((message) => message.channel).sort()).toEqual(["EMAIL", "RCS"]);
      const email = transfer.messages.find((message) => message.channel === "EMAIL")!;
      expect(email.provider).toBe("email-log");
      expect(new Set(transfer.messages.map((message) => message.id)).size).toBe(2);
    });

    it("an email-only recipient gets only the email copy, and the CPaaS is never asked", async () => {
      const token = await tokenFor(uniqueTenant("email"));
      const transfer = await create(token, { recipient: { email: "only@example.com" } });
      expect(transfer.recipient).toEqual({ phone: null, email: "only@example.com" });
      expect(transfer.messages).toHaveLength(1);
      expect(transfer.messages[0]).toMatchObject({ channel: "EMAIL", provider: "email-log" });

      await barrier(token);
      expect(cpaas.sends.filter((send) => send.body.params.transfer_id === transfer.id)).toEqual([]);
      // The email copy itself is sent (SENT is recorded when the mail transport accepts it).
      const sent = await eventually(async () => {
        const result = await graphql(server.url, GetTransferDocument, { id: transfer.id }, token);
        return result.body.data?.transfer?.messages[0]?.status === "SENT" ? result.body.data.transfer : undefined;
      }, "the email copy to be sent");
      expect(sent.status).toBe("SENT");
    });

    it("expiresAt defaults to 7 days after creation; an explicit one is kept to the millisecond", async () => {
      const token = await tokenFor(uniqueTenant("expiry"));
      const before = Date.now();
      const transfer = await create(token);
      const after = Date.now();
      const createdAt = Date.parse(transfer.createdAt);
      const expiresAt = Date.parse(transfer.expiresAt);
      // Generous bounds: these check the value, not how fast the server is.
      expect(createdAt).toBeGreaterThanOrEqual(before - 60_000);
      expect(createdAt).toBeLessThanOrEqual(after + 60_000);
      expect(Math.abs(expiresAt - createdAt - 7 * DAY_MS)).toBeLessThanOrEqual(60_000);

      const explicit = new Date(Date.now() + 3 * DAY_MS + 123);
      const custom = await create(token, { expiresAt: explicit.toISOString() });
      expect(new Date(custom.expiresAt).toISOString()).toBe(explicit.toISOString());
    });

    it("the same idempotencyKey with the same input returns the same transfer and sends once", async () => {
      const token = await tokenFor(uniqueTenant("idem"));
      const first = await create(token, { idempotencyKey: "order-1" });
      await cpaas.waitForSend(first.id, 20_000);
      const second = await create(token, { idempotencyKey: "order-1" });
      expect(second.id).toBe(first.id);
      expect(second.messages.map((message) => message.id)).toEqual(first.messages.map((message) => message.id));

      await barrier(token);
      expect(cpaas.sends.filter((send) => send.body.params.transfer_id === first.id)).toHaveLength(1);
      const queued = await listAll(token, { transferId: first.id, event: "QUEUED" });
      expect(queued).toHaveLength(1);
    });

    it("an idempotencyKey belongs to its tenant: another tenant's same key makes its own transfer", async () => {
      const tokenA = await tokenFor(uniqueTenant("idem-a"));
      const tokenB = await tokenFor(uniqueTenant("idem-b"));
      const a = await create(tokenA, { idempotencyKey: "shared-key" });
      const b = await create(tokenB, { idempotencyKey: "shared-key" });
      expect(b.id).not.toBe(a.id);
      const seenByB = await graphql(server.url, GetTransferDocument, { id: b.id }, tokenB);
      expect(seenByB.body.data?.transfer?.id).toBe(b.id);
    });

    it("five concurrent creates with the same key yield one transfer and one send", async () => {
      const tenant = uniqueTenant("idem-race");
      const token = await tokenFor(tenant);
      const results = await Promise.all(
        Array.from({ length: 5 }, () => graphql(server.url, CreateTransferDocument, { input: input({ idempotencyKey: "race-1" }) }, token)),
      );
      for (const result of results) expect(result.body.errors).toBeUndefined();
      const ids = new Set(results.map((result) => result.body.data!.createTransfer.id));
      expect(ids.size).toBe(1);
      const [id] = [...ids] as [string];

      await cpaas.waitForSend(id, 20_000);
      await barrier(token);
      expect(cpaas.sends.filter((send) => send.body.params.transfer_id === id)).toHaveLength(1);
      expect(await listAll(token, { transferId: id, event: "QUEUED" })).toHaveLength(1);

      if (server.databaseUrl) {
        const sql = postgres(server.databaseUrl, { max: 1, onnotice: () => {} });
        try {
          const rows = await sql<Array<{ count: string }>>`SELECT count(*)::text AS count FROM transfers WHERE tenant_id = ${tenant} AND idempotency_key = 'race-1'`;
          expect(rows[0]!.count).toBe("1");
          const messageRows = await sql<Array<{ count: string }>>`SELECT count(*)::text AS count FROM messages WHERE transfer_id = ${id}`;
          expect(messageRows[0]!.count).toBe("1");
        } finally {
          await sql.end();
        }
      }
    });
  });

  describe("transfer(id)", () => {
    it("returns the tenant's own transfer as created", async () => {
      const token = await tokenFor(uniqueTenant("get"));
      const created = await create(token, { recipient: { phone: "+14165550102", email: "get@example.com" } });
      const result = await graphql(server.url, GetTransferDocument, { id: created.id }, token);
      expect(result.body.errors).toBeUndefined();
      const transfer = result.body.data!.transfer!;
      expect(transfer).toMatchObject({
        id: created.id,
        fileName: created.fileName,
        fileSizeBytes: created.fileSizeBytes,
        senderName: created.senderName,
        description: created.description,
        createdAt: created.createdAt,
        expiresAt: created.expiresAt,
        recipient: created.recipient,
      });
      expect(transfer.messages.map((message) => message.id).sort()).toEqual(created.messages.map((message) => message.id).sort());
    });

    it("is null for an id that does not exist", async () => {
      const token = await tokenFor(uniqueTenant("missing"));
      const result = await graphql(server.url, GetTransferDocument, { id: "tx_doesnotexist" }, token);
      expect(result.body.errors).toBeUndefined();
      expect(result.body.data).toEqual({ transfer: null });
    });
  });

  describe("receiptEvents", () => {
    let token: string;
    let both: Awaited<ReturnType<typeof create>>;
    let phoneOnly: Awaited<ReturnType<typeof create>>;
    /** Provider times after the transfers' own QUEUED/SENT decisions, with odd milliseconds. */
    const base = Date.now() + 10 * 60_000;
    const at = (offsetMs: number) => new Date(base + offsetMs).toISOString();

    beforeAll(async () => {
      token = await tokenFor(uniqueTenant("history"));
      both = await create(token, { recipient: { phone: "+14165550103", email: "history@example.com" } });
      phoneOnly = await create(token, { recipient: { phone: "+14165550104" } });
      const sendBoth = await cpaas.waitForSend(both.id, 20_000);
      const sendPhone = await cpaas.waitForSend(phoneOnly.id, 20_000);
      // The email copy's SENT decision is recorded by the dispatcher: wait for it so the history is settled.
      await eventually(async () => {
        const result = await graphql(server.url, GetTransferDocument, { id: both.id }, token);
        return result.body.data?.transfer?.messages.find((message) => message.channel === "EMAIL")?.status === "SENT" ? true : undefined;
      }, "the email copy's SENT decision");
      await eventually(async () => {
        const result = await graphql(server.url, GetTransferDocument, { id: phoneOnly.id }, token);
        return result.body.data?.transfer?.messages[0]?.providerMessageId ? true : undefined;
      }, "the provider id of the phone-only transfer");

      // Posted out of order: read, then sent, then delivered. History lists them as they arrived (commit order), each with its provider time.
      const posts: Array<[string, string, string]> = [
        ["message.read", at(3_003), sendBoth.providerMessageId!],
        ["message.sent", at(1_001), sendBoth.providerMessageId!],
        ["message.delivered", at(2_002), sendBoth.providerMessageId!],
        ["message.sent", at(4_004), sendPhone.providerMessageId!],
      ];
      for (const [event, timestamp, messageId] of posts) {
        const posted = await postGeneric(server.url, { event, timestamp, message_id: messageId, channel: "rcs", carrier: "310260" });
        expect(posted.status).toBe(200);
      }
    });

    it("lists the tenant's events newest last, in the order they arrived, with provider times to the millisecond", async () => {
      const events = await listAll(token);
      // both: QUEUED RCS, QUEUED EMAIL, SENT EMAIL, SENT/DELIVERED/READ RCS; phoneOnly: QUEUED RCS, SENT RCS.
      expect(events).toHaveLength(8);
      expect(events.slice(-4).map((event) => [event.transferId, event.event, event.timestamp])).toEqual([
        [both.id, "READ", at(3_003)],
        [both.id, "SENT", at(1_001)],
        [both.id, "DELIVERED", at(2_002)],
        [phoneOnly.id, "SENT", at(4_004)],
      ]);
      const read = events.find((event) => event.event === "READ")!;
      expect(read).toMatchObject({ channel: "RCS", provider: "cpaas", source: "generic", carrier: "310260", messageId: both.messages.find((m) => m.channel === "RCS")!.id });
      expect(Date.parse(read.receivedAt)).not.toBeNaN();
      expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    });

    it("filters by transferId", async () => {
      const ofBoth = await listAll(token, { transferId: both.id });
      expect(ofBoth).toHaveLength(6);
      expect(ofBoth.every((event) => event.transferId === both.id)).toBe(true);
      const ofPhone = await listAll(token, { transferId: phoneOnly.id });
      expect(ofPhone.map((event) => event.event)).toEqual(["QUEUED", "SENT"]);
      expect(ofPhone.every((event) => event.transferId === phoneOnly.id)).toBe(true);
    });

    it("filters by channel", async () => {
      const email = await listAll(token, { channel: "EMAIL" });
      expect(email.map((event) => event.event)).toEqual(["QUEUED", "SENT"]);
      expect(email.every((event) => event.channel === "EMAIL" && event.transferId === both.id)).toBe(true);
      const rcs = await listAll(token, { channel: "RCS" });
      expect(rcs).toHaveLength(6);
      expect(rcs.every((event) => event.channel === "RCS")).toBe(true);
    });

    it("filters by event", async () => {
      const delivered = await listAll(token, { event: "DELIVERED" });
      expect(delivered.map((event) => [event.transferId, event.timestamp])).toEqual([[both.id, at(2_002)]]);
      const queued = await listAll(token, { event: "QUEUED" });
      expect(queued).toHaveLength(3);
      expect(queued.every((event) => event.event === "QUEUED")).toBe(true);
    });

    it("filters by provider", async () => {
      const email = await listAll(token, { provider: "email-log" });
      expect(email).toHaveLength(2);
      expect(email.every((event) => event.provider === "email-log" && event.channel === "EMAIL")).toBe(true);
      const cpaasEvents = await listAll(token, { provider: "cpaas" });
      expect(cpaasEvents).toHaveLength(6);
      expect(await listAll(token, { provider: "nobody" })).toEqual([]);
    });

    it("filters by provider time, from and to both inclusive", async () => {
      const window = await listAll(token, { from: at(1_001), to: at(3_003) });
      expect(window.map((event) => event.event)).toEqual(["READ", "SENT", "DELIVERED"]);
      const fromOnly = await listAll(token, { from: at(2_002) });
      expect(fromOnly.map((event) => event.timestamp)).toEqual([at(3_003), at(2_002), at(4_004)]);
      const toOnly = await listAll(token, { to: at(1_001) });
      expect(toOnly).toHaveLength(5);
      expect(toOnly.at(-1)!.timestamp).toBe(at(1_001));
      expect(await listAll(token, { from: at(1_002), to: at(2_001) })).toEqual([]);
    });

    it("combines filters", async () => {
      const events = await listAll(token, { transferId: both.id, channel: "RCS", event: "READ", provider: "cpaas", from: at(0), to: at(5_000) });
      expect(events.map((event) => event.timestamp)).toEqual([at(3_003)]);
    });

    it("keyset pagination with first: 2 yields every event exactly once, in order", async () => {
      const everything = await listAll(token);
      const collected: EventNode[] = [];
      let after: string | undefined;
      let pages = 0;
      for (;;) {
        const result = await graphql(server.url, ReceiptEventsDocument, { first: 2, after }, token);
        expect(result.body.errors).toBeUndefined();
        const page = result.body.data!.receiptEvents;
        pages += 1;
        expect(page.edges.length).toBeLessThanOrEqual(2);
        collected.push(...page.edges.map((edge) => edge.node));
        if (page.edges.length > 0) expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)!.cursor);
        if (!page.pageInfo.hasNextPage) break;
        expect(page.edges).toHaveLength(2);
        after = page.pageInfo.endCursor!;
        expect(pages).toBeLessThan(50);
      }
      expect(pages).toBeGreaterThan(1);
      expect(collected.map((event) => event.id)).toEqual(everything.map((event) => event.id));
      expect(new Set(collected.map((event) => event.id)).size).toBe(collected.length);
    });

    it("paginates a filtered list too, and the last page says there is no next page", async () => {
      const collected: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 10; page += 1) {
        const result = await graphql(server.url, ReceiptEventsDocument, { filter: { transferId: both.id }, first: 4, after }, token);
        expect(result.body.errors).toBeUndefined();
        const connection = result.body.data!.receiptEvents;
        collected.push(...connection.edges.map((edge) => edge.node.id));
        if (!connection.pageInfo.hasNextPage) break;
        after = connection.pageInfo.endCursor!;
      }
      expect(collected).toEqual((await listAll(token, { transferId: both.id })).map((event) => event.id));

      const past = await graphql(server.url, ReceiptEventsDocument, { filter: { transferId: both.id }, first: 4, after }, token);
      expect(past.body.errors).toBeUndefined();
      expect(past.body.data!.receiptEvents.edges).toHaveLength(2);
      expect(past.body.data!.receiptEvents.pageInfo).toMatchObject({ hasNextPage: false });
    });

    it("a tenant with no events gets an empty connection", async () => {
      const result = await graphql(server.url, ReceiptEventsDocument, {}, await tokenFor(uniqueTenant("empty")));
      expect(result.body.errors).toBeUndefined();
      expect(result.body.data!.receiptEvents).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    });
  });
});
