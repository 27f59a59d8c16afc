import { readFile } from "node:fs/promises";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateTransferDocument, GetTransferDocument, TransferUpdatedDocument } from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { graphql, subscribe, wsClient } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { createTestDatabase, hasPostgres, hasRedis } from "../helpers/services.js";
import { uniqueTenant } from "../helpers/wait.js";
import { postGeneric } from "../helpers/webhooks.js";

/**
 * Several API instances share one PostgreSQL and one Redis. Without both services there is nothing
 * to share: outside CI the file is skipped loudly; under CI it never is (the global setup already
 * fails a CI run whose services are missing, and `skipIf` is false there).
 */
const servicesMissing = !hasRedis() || !hasPostgres();
const skip = servicesMissing && process.env.CI !== "true";
if (skip) {
  const banner = "!".repeat(78);
  console.warn(
    `\n${banner}\n  multi-instance tests SKIPPED: ${!hasRedis() ? "Redis" : ""}${!hasRedis() && !hasPostgres() ? " and " : ""}` +
      `${!hasPostgres() ? "PostgreSQL" : ""} not reachable (never skipped under CI=true)\n${banner}\n`,
  );
}

const input = (phone: string) => ({ recipient: { phone }, fileName: "q4.zip", fileSizeBytes: 42, senderName: "Acme" });

describe.skipIf(skip)("several instances, one database and one Redis", () => {
  it("the test run really has the services (never skipped under CI)", () => {
    expect(hasRedis()).toBe(true);
    expect(hasPostgres()).toBe(true);
  });

  describe("fan-out across instances", () => {
    let a: TestServer;
    let b: TestServer;
    let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;

    beforeAll(async () => {
      cpaas = await startFakeCpaas();
      a = await startTestServer({ redis: true, env: { CPAAS_API_URL: cpaas.url } });
      b = await startTestServer({ redis: true, databaseUrl: a.databaseUrl, env: { CPAAS_API_URL: cpaas.url } });
    });
    afterAll(async () => {
      // B borrows A's database, which A drops on close: B goes first.
      await b?.close();
      await a?.close();
      await cpaas?.close();
    });

    it("both instances use Redis pubsub and the same database", async () => {
      for (const server of [a, b]) {
        const ready = await fetch(`${server.url}/readyz`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({ status: "ready", database: "postgres", pubsub: "redis" });
      }
      const token = await tokenFor(uniqueTenant("shared"));
      const created = await graphql(a.url, CreateTransferDocument, { input: input("+14165550300") }, token);
      expect(created.body.errors).toBeUndefined();
      const seenByB = await graphql(b.url, GetTransferDocument, { id: created.body.data!.createTransfer.id }, token);
      expect(seenByB.body.data?.transfer?.id).toBe(created.body.data!.createTransfer.id);
    });

    it("a subscriber on instance A receives an event whose webhook was posted to instance B", async () => {
      const token = await tokenFor(uniqueTenant("fanout"));
      const created = await graphql(b.url, CreateTransferDocument, { input: input("+14165550301") }, token);
      expect(created.body.errors).toBeUndefined();
      const transfer = created.body.data!.createTransfer;
      const send = await cpaas.waitForSend(transfer.id, 20_000);

      const client = wsClient(a.wsUrl, { Authorization: `Bearer ${token}` });
      try {
        const updates = subscribe(client, TransferUpdatedDocument, { id: transfer.id });
        expect((await updates.next()).data?.transferUpdated.event).toBeNull();

        const timestamp = new Date().toISOString();
        const posted = await postGeneric(b.url, { event: "message.delivered", timestamp, message_id: send.providerMessageId, carrier: "310260" });
        expect(posted.status).toBe(200);

        // Skip anything that is not the DELIVERED posted to B (nothing else is expected).
        let update = await updates.next(15_000);
        while (update.data?.transferUpdated.event?.event !== "DELIVERED") update = await updates.next(15_000);
        expect(update.data.transferUpdated.event).toMatchObject({ transferId: transfer.id, timestamp, provider: "cpaas", carrier: "310260" });
        // Dates survive the trip through Redis as dates (not strings serialized twice).
        expect(update.data.transferUpdated.transfer).toMatchObject({ id: transfer.id, status: "DELIVERED", createdAt: transfer.createdAt, expiresAt: transfer.expiresAt });
        updates.dispose();
      } finally {
        await client.dispose();
      }
    });

    it("each instance's dispatcher sends a message once between them", async () => {
      const token = await tokenFor(uniqueTenant("dispatch"));
      const ids: string[] = [];
      for (let index = 0; index < 6; index += 1) {
        const server = index % 2 === 0 ? a : b;
        const created = await graphql(server.url, CreateTransferDocument, { input: input(`+1416555031${index}`) }, token);
        expect(created.body.errors).toBeUndefined();
        ids.push(created.body.data!.createTransfer.id);
      }
      for (const id of ids) await cpaas.waitForSend(id, 20_000);
      for (const id of ids) expect(cpaas.sends.filter((send) => send.body.params.transfer_id === id)).toHaveLength(1);
    });
  });

  describe("starting together against a fresh database", () => {
    it("two instances starting at once both come up (migrations run once, under an advisory lock)", async () => {
      const database = await createTestDatabase();
      expect(database).toBeDefined();
      // A fake CPaaS rather than the simulator: the simulator's receipts would still be in flight
      // when the instances close (see shutdown.test.ts for what that does to close()).
      const cpaas = await startFakeCpaas();
      const servers: TestServer[] = [];
      try {
        const started = await Promise.allSettled([
          startTestServer({ redis: true, databaseUrl: database!.url, env: { CPAAS_API_URL: cpaas.url } }),
          startTestServer({ redis: true, databaseUrl: database!.url, env: { CPAAS_API_URL: cpaas.url } }),
        ]);
        for (const result of started) if (result.status === "fulfilled") servers.push(result.value);
        expect(started.map((result) => (result.status === "rejected" ? String(result.reason) : "ok"))).toEqual(["ok", "ok"]);

        const token = await tokenFor(uniqueTenant("together"));
        const [first, second] = servers as [TestServer, TestServer];
        const created = await graphql(first.url, CreateTransferDocument, { input: input("+14165550320") }, token);
        expect(created.body.errors).toBeUndefined();
        const read = await graphql(second.url, GetTransferDocument, { id: created.body.data!.createTransfer.id }, token);
        expect(read.body.data?.transfer?.id).toBe(created.body.data!.createTransfer.id);

        // Every migration in the journal is recorded exactly once.
        const journal = JSON.parse(await readFile(new URL("../../drizzle/meta/_journal.json", import.meta.url), "utf8")) as { entries: unknown[] };
        const sql = postgres(database!.url, { max: 1, onnotice: () => {} });
        try {
          const rows = await sql<Array<{ hash: string }>>`SELECT hash FROM drizzle.__drizzle_migrations`;
          expect(rows).toHaveLength(journal.entries.length);
          expect(new Set(rows.map((row) => row.hash)).size).toBe(rows.length);
        } finally {
          await sql.end();
        }
      } finally {
        await Promise.all(servers.map((server) => server.close()));
        await database?.drop();
        await cpaas.close();
      }
    });
  });
});
