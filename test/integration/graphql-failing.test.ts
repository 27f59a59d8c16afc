import { SignJWT } from "jose";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateTransferDocument,
  GetTransferDocument,
  ReceiptEventsDocument,
  type CreateTransferInput,
} from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { errorCodes, graphql } from "../helpers/graphql.js";
import { startTestServer, TEST_AUDIENCE, TEST_AUTH_SECRET, tokenFor, type TestServer } from "../helpers/server.js";
import { uniqueTenant } from "../helpers/wait.js";
import { postGeneric } from "../helpers/webhooks.js";

const DAY_MS = 24 * 3600 * 1000;
const cursorOf = (text: string) => Buffer.from(text).toString("base64url");

/** The failing GraphQL cases: authentication, scopes, input, conflicts, tenancy, cursors. */
describe("GraphQL API (failing cases)", () => {
  let server: TestServer;
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url } });
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
  });

  const input = (overrides: Partial<CreateTransferInput> = {}): CreateTransferInput => ({
    recipient: { phone: "+14165550100" },
    fileName: "q4.zip",
    fileSizeBytes: 1000,
    senderName: "Acme DataOps",
    ...overrides,
  });

  async function create(token: string, overrides: Partial<CreateTransferInput> = {}) {
    const result = await graphql(server.url, CreateTransferDocument, { input: input(overrides) }, token);
    expect(result.body.errors).toBeUndefined();
    return result.body.data!.createTransfer;
  }

  async function countTransfers(tenant: string): Promise<number | undefined> {
    if (!server.databaseUrl) return undefined;
    const sql = postgres(server.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<Array<{ count: string }>>`SELECT count(*)::text AS count FROM transfers WHERE tenant_id = ${tenant}`;
      return Number(rows[0]!.count);
    } finally {
      await sql.end();
    }
  }

  /** Every operation, so each authentication failure is checked on reads and writes alike. */
  const operations = {
    createTransfer: (token?: string) => graphql(server.url, CreateTransferDocument, { input: input() }, token),
    transfer: (token?: string) => graphql(server.url, GetTransferDocument, { id: "tx_whatever" }, token),
    receiptEvents: (token?: string) => graphql(server.url, ReceiptEventsDocument, {}, token),
  };

  describe("authentication", () => {
    const badTokens: Array<[string, () => Promise<string>]> = [
      ["a bad signature", () => tokenFor("acme", { secret: "another-secret-with-enough-entropy-0123456789" })],
      ["the wrong audience", () => tokenFor("acme", { audience: "someone-else" })],
      ["an expired token", () => tokenFor("acme", { expiresIn: Math.floor(Date.now() / 1000) - 60 })],
      ["a token that is not a JWT", async () => "not-a-jwt"],
      [
        "a token without exp",
        () =>
          new SignJWT({ tenant_id: "acme", scope: "transfers:write transfers:read receipts:read" })
            .setProtectedHeader({ alg: "HS256" })
            .setAudience(TEST_AUDIENCE)
            .sign(new TextEncoder().encode(TEST_AUTH_SECRET)),
      ],
      [
        "a token without tenant_id",
        () =>
          new SignJWT({ scope: "transfers:write transfers:read receipts:read" })
            .setProtectedHeader({ alg: "HS256" })
            .setAudience(TEST_AUDIENCE)
            .setExpirationTime("1h")
            .sign(new TextEncoder().encode(TEST_AUTH_SECRET)),
      ],
      [
        "an unsigned (alg: none) token",
        async () => {
          const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
          const exp = Math.floor(Date.now() / 1000) + 3600;
          return `${encode({ alg: "none", typ: "JWT" })}.${encode({ tenant_id: "acme", aud: TEST_AUDIENCE, exp, scope: "transfers:read" })}.`;
        },
      ],
    ];

    for (const [name, operation] of Object.entries(operations)) {
      it(`${name} without a token is UNAUTHENTICATED, 401`, async () => {
        const result = await operation();
        expect(result.status).toBe(401);
        expect(errorCodes(result.body)).toEqual(["UNAUTHENTICATED"]);
        // transfer is nullable, so its error leaves { transfer: null }; the others null the whole data.
        expect(Object.values(result.body.data ?? {}).every((value) => value === null)).toBe(true);
      });

      it.each(badTokens)(`${name} with %s is UNAUTHENTICATED, 401`, async (_label, mint) => {
        const result = await operation(await mint());
        expect(result.status).toBe(401);
        expect(errorCodes(result.body)).toEqual(["UNAUTHENTICATED"]);
        expect(Object.values(result.body.data ?? {}).every((value) => value === null)).toBe(true);
      });
    }

    it("a rejected token creates nothing", async () => {
      const tenant = uniqueTenant("rejected");
      const result = await graphql(server.url, CreateTransferDocument, { input: input() }, await tokenFor(tenant, { audience: "someone-else" }));
      expect(errorCodes(result.body)).toEqual(["UNAUTHENTICATED"]);
      const count = await countTransfers(tenant);
      if (count !== undefined) expect(count).toBe(0);
    });
  });

  describe("scopes", () => {
    it("createTransfer needs transfers:write", async () => {
      const tenant = uniqueTenant("scope-write");
      const token = await tokenFor(tenant, { scopes: ["transfers:read", "receipts:read"] });
      const result = await graphql(server.url, CreateTransferDocument, { input: input() }, token);
      expect(errorCodes(result.body)).toEqual(["FORBIDDEN"]);
      expect(result.body.data ?? null).toBeNull();
      const count = await countTransfers(tenant);
      if (count !== undefined) expect(count).toBe(0);
    });

    it("transfer(id) needs transfers:read", async () => {
      const tenant = uniqueTenant("scope-read");
      const created = await create(await tokenFor(tenant));
      const result = await graphql(server.url, GetTransferDocument, { id: created.id }, await tokenFor(tenant, { scopes: ["transfers:write", "receipts:read"] }));
      expect(errorCodes(result.body)).toEqual(["FORBIDDEN"]);
      expect(result.body.data?.transfer ?? null).toBeNull();
    });

    it("receiptEvents needs receipts:read (transfers:read is not enough)", async () => {
      const tenant = uniqueTenant("scope-receipts");
      await create(await tokenFor(tenant));
      const result = await graphql(server.url, ReceiptEventsDocument, {}, await tokenFor(tenant, { scopes: ["transfers:read", "transfers:write"] }));
      expect(errorCodes(result.body)).toEqual(["FORBIDDEN"]);
      expect(result.body.data ?? null).toBeNull();
    });

    it("a token with no scopes at all is FORBIDDEN, not UNAUTHENTICATED", async () => {
      const result = await graphql(server.url, GetTransferDocument, { id: "tx_x" }, await tokenFor(uniqueTenant("no-scope"), { scopes: [] }));
      expect(errorCodes(result.body)).toEqual(["FORBIDDEN"]);
    });
  });

  describe("input", () => {
    const badInputs: Array<[string, Partial<CreateTransferInput>, string?]> = [
      ["a phone that is not E.164", { recipient: { phone: "4165550100" } }, "recipient.phone"],
      ["a phone with letters", { recipient: { phone: "+1416CALLME" } }, "recipient.phone"],
      ["an invalid email", { recipient: { email: "not-an-email" } }, "recipient.email"],
      ["no recipient at all", { recipient: {} }, "recipient"],
      ["a recipient of explicit nulls", { recipient: { phone: null, email: null } }, "recipient"],
      ["a negative size", { fileSizeBytes: -1 }, "fileSizeBytes"],
      ["an empty file name", { fileName: "   " }, "fileName"],
      ["an empty sender name", { senderName: "" }, "senderName"],
      ["an expiresAt in the past", { expiresAt: new Date(Date.now() - 60_000).toISOString() }, "expiresAt"],
      ["an expiresAt beyond 90 days", { expiresAt: new Date(Date.now() + 91 * DAY_MS).toISOString() }, "expiresAt"],
      ["a fractional size", { fileSizeBytes: 1.5 }],
      ["an expiresAt that is not a date", { expiresAt: "next tuesday" }],
    ];

    it.each(badInputs)("%s is BAD_USER_INPUT and creates nothing", async (_label, overrides, field) => {
      const tenant = uniqueTenant("input");
      const result = await graphql(server.url, CreateTransferDocument, { input: input(overrides) }, await tokenFor(tenant));
      expect(errorCodes(result.body)).toEqual(["BAD_USER_INPUT"]);
      expect(result.body.data ?? null).toBeNull();
      if (field) expect(result.body.errors![0]!.extensions?.field).toBe(field);
      const count = await countTransfers(tenant);
      if (count !== undefined) expect(count).toBe(0);
    });

    it.each([0, -1, 501])("receiptEvents(first: %i) is BAD_USER_INPUT", async (first) => {
      const result = await graphql(server.url, ReceiptEventsDocument, { first }, await tokenFor(uniqueTenant("first")));
      expect(errorCodes(result.body)).toEqual(["BAD_USER_INPUT"]);
    });
  });

  describe("idempotency", () => {
    it("the same idempotencyKey with different input is a CONFLICT and changes nothing", async () => {
      const token = await tokenFor(uniqueTenant("conflict"));
      const original = await create(token, { idempotencyKey: "order-7" });
      const conflicting = await graphql(server.url, CreateTransferDocument, { input: input({ idempotencyKey: "order-7", fileName: "other.zip" }) }, token);
      expect(errorCodes(conflicting.body)).toEqual(["CONFLICT"]);
      expect(conflicting.body.data ?? null).toBeNull();

      const otherRecipient = await graphql(server.url, CreateTransferDocument, { input: input({ idempotencyKey: "order-7", recipient: { phone: "+14165550111" } }) }, token);
      expect(errorCodes(otherRecipient.body)).toEqual(["CONFLICT"]);

      const after = await graphql(server.url, GetTransferDocument, { id: original.id }, token);
      expect(after.body.data?.transfer).toMatchObject({ id: original.id, fileName: "q4.zip", recipient: { phone: "+14165550100" } });
      expect(after.body.data?.transfer?.messages).toHaveLength(1);
    });
  });

  describe("tenancy", () => {
    let tokenA: string;
    let tokenB: string;
    let transferA: Awaited<ReturnType<typeof create>>;

    beforeAll(async () => {
      tokenA = await tokenFor(uniqueTenant("tenant-a"));
      tokenB = await tokenFor(uniqueTenant("tenant-b"));
      transferA = await create(tokenA);
      const send = await cpaas.waitForSend(transferA.id, 20_000);
      const posted = await postGeneric(server.url, { event: "message.delivered", timestamp: new Date().toISOString(), message_id: send.providerMessageId });
      expect(posted.status).toBe(200);
      await create(tokenB, { recipient: { phone: "+14165550222" } });
    });

    it("another tenant's transfer is null through transfer(id), exactly like an absent one", async () => {
      const own = await graphql(server.url, GetTransferDocument, { id: transferA.id }, tokenA);
      expect(own.body.data?.transfer?.id).toBe(transferA.id);
      const foreign = await graphql(server.url, GetTransferDocument, { id: transferA.id }, tokenB);
      expect(foreign.body.errors).toBeUndefined();
      expect(foreign.body.data).toEqual({ transfer: null });
    });

    it("another tenant's events are absent from receiptEvents, filtered or not", async () => {
      const ownEvents = await graphql(server.url, ReceiptEventsDocument, { filter: { transferId: transferA.id } }, tokenA);
      expect(ownEvents.body.data!.receiptEvents.edges.map((edge) => edge.node.event)).toEqual(["QUEUED", "DELIVERED"]);

      const filtered = await graphql(server.url, ReceiptEventsDocument, { filter: { transferId: transferA.id } }, tokenB);
      expect(filtered.body.errors).toBeUndefined();
      expect(filtered.body.data!.receiptEvents.edges).toEqual([]);

      const unfiltered = await graphql(server.url, ReceiptEventsDocument, { first: 500 }, tokenB);
      expect(unfiltered.body.errors).toBeUndefined();
      const seen = unfiltered.body.data!.receiptEvents.edges.map((edge) => edge.node);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.some((event) => event.transferId === transferA.id)).toBe(false);
    });

    it("another tenant's cursor reveals nothing of the first tenant", async () => {
      const page = await graphql(server.url, ReceiptEventsDocument, { first: 1 }, tokenA);
      const cursor = page.body.data!.receiptEvents.edges[0]!.cursor;
      const foreign = await graphql(server.url, ReceiptEventsDocument, { first: 500, after: cursor }, tokenB);
      expect(foreign.body.errors).toBeUndefined();
      expect(foreign.body.data!.receiptEvents.edges.some((edge) => edge.node.transferId === transferA.id)).toBe(false);
    });
  });

  describe("cursors", () => {
    const badCursors: Array<[string, string]> = [
      ["random text", "not a cursor"],
      ["base64 of text without a separator", cursorOf("hello")],
      ["a cursor with a bad date", cursorOf("2026-13-45T99:00:00Z|12")],
      ["a cursor with a non-numeric id", cursorOf("2026-01-17T15:04:05.000Z|abc")],
      ["a cursor with a negative id", cursorOf("2026-01-17T15:04:05.000Z|-5")],
      ["a cursor with an id beyond bigint", cursorOf("2026-01-17T15:04:05.000Z|99999999999999999999999")],
      ["a cursor with a date PostgreSQL cannot hold", cursorOf("+275760-09-13T00:00:00.000Z|1")],
    ];

    it.each(badCursors)("%s as `after` is BAD_USER_INPUT", async (_label, after) => {
      const result = await graphql(server.url, ReceiptEventsDocument, { first: 2, after }, await tokenFor(uniqueTenant("cursor")));
      expect(errorCodes(result.body)).toEqual(["BAD_USER_INPUT"]);
      expect(result.body.data ?? null).toBeNull();
    });
  });
});
