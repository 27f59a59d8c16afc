import type { ChildProcess } from "node:child_process";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetTransferDocument, TransferUpdatedDocument } from "../generated/graphql.js";
import { startAcklineProcess } from "../helpers/ackline-process.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { graphql, subscribe, wsClient } from "../helpers/graphql.js";
import { startTestServer, TEST_AUDIENCE, TEST_AUTH_SECRET, TEST_GENERIC_SECRET, tokenFor, type TestServer } from "../helpers/server.js";
import { createTestDatabase, hasPostgres, hasRedis } from "../helpers/services.js";
import { lockTransfers, sentTransfers } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { postReceipt, receiptsFolded } from "../helpers/webhooks.js";

/**
 * The webhook door acknowledges once events are appended to the log; the receipt applier folds
 * them into statuses right after. These cases need a real PostgreSQL (row locks held from outside
 * the server, several instances, a killed process): outside CI they are skipped loudly without it.
 */
const skip = (!hasPostgres() || !hasRedis()) && process.env.CI !== "true";
if (skip) console.warn(`\n${"!".repeat(78)}\n  receipt-applier tests SKIPPED: PostgreSQL or Redis not reachable (never skipped under CI=true)\n${"!".repeat(78)}\n`);

const LIFECYCLE = ["message.sent", "message.delivered", "message.read", "message.clicked"] as const;
const RANK: Record<string, number> = { QUEUED: 0, SENT: 1, DELIVERED: 2, READ: 3 };

describe.skipIf(skip)("receipt applier", () => {
  it("the test run really has the services (never skipped under CI)", () => {
    expect(hasPostgres()).toBe(true);
    expect(hasRedis()).toBe(true);
  });

  it("a process killed between append and fold loses nothing: a restarted instance folds every event once", async () => {
    const database = (await createTestDatabase())!;
    const cpaas = await startFakeCpaas();
    const sql = postgres(database.url, { max: 2, onnotice: () => {} });
    let child: ChildProcess | undefined;
    let restarted: TestServer | undefined;
    try {
      const started = await startAcklineProcess({
        DATABASE_URL: database.url,
        AUTH_JWT_SECRET: TEST_AUTH_SECRET,
        AUTH_AUDIENCE: TEST_AUDIENCE,
        WEBHOOK_GENERIC_SECRET: TEST_GENERIC_SECRET,
        CPAAS_API_URL: cpaas.url,
        DATA_DIR: `/tmp/ackline-child-${process.pid}`,
      });
      child = started.process;
      const tenant = uniqueTenant("crash");
      const token = await tokenFor(tenant);
      const transfers = await sentTransfers(started, token, 3, sql);

      // The fold cannot take these transfers' locks: the events stay appended, unfolded.
      const release = await lockTransfers(database.url, transfers.map((transfer) => transfer.transferId));
      const base = Date.now() - 60_000;
      const payloads = transfers.flatMap(({ providerMessageId }, target) =>
        LIFECYCLE.map((event, step) => ({ event, timestamp: new Date(base + target * 10 + step).toISOString(), message_id: providerMessageId, channel: "rcs" })),
      );
      for (const payload of payloads) expect((await postReceipt(started.url, payload)).status).toBe(200);
      child.kill("SIGKILL");
      await new Promise((resolve) => child!.once("exit", resolve));
      await release();

      const keys = payloads.map((payload) => `${payload.message_id}:${payload.event}:${payload.timestamp}`);
      const [left] = await sql<Array<{ pending: number; total: number }>>`
        SELECT count(*) FILTER (WHERE pending)::int AS pending, count(*)::int AS total FROM receipt_events WHERE source = 'generic'`;
      expect(left).toEqual({ pending: payloads.length, total: payloads.length });

      restarted = await startTestServer({ databaseUrl: database.url, env: { CPAAS_API_URL: cpaas.url } });
      await receiptsFolded(restarted.url);
      const rows = await sql<Array<{ dedupe_key: string; tenant_id: string; pending: boolean }>>`
        SELECT dedupe_key, tenant_id, pending FROM receipt_events WHERE source = 'generic'`;
      expect(rows).toHaveLength(keys.length);
      expect(rows.every((row) => !row.pending && row.tenant_id === tenant)).toBe(true);
      for (const { transferId } of transfers) {
        const transfer = await graphql(restarted.url, GetTransferDocument, { id: transferId }, token);
        expect(transfer.body.data?.transfer).toMatchObject({ status: "READ", messages: [{ status: "READ" }] });
      }
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await restarted?.close();
      await sql.end();
      await database.drop();
      await cpaas.close();
    }
  }, 120_000);

  describe("with the backlog limit at 3", () => {
    let server: TestServer;
    let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
    let sql: postgres.Sql;

    beforeAll(async () => {
      cpaas = await startFakeCpaas();
      server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, RECEIPT_BACKLOG_LIMIT: "3" } });
      sql = postgres(server.databaseUrl!, { max: 2, onnotice: () => {} });
    });
    afterAll(async () => {
      await sql?.end();
      await server?.close();
      await cpaas?.close();
    });

    it("answers 503 with Retry-After once the backlog passes it, shows the lag, and recovers when the fold catches up", async () => {
      const token = await tokenFor(uniqueTenant("backlog"));
      const [{ transferId, providerMessageId }] = (await sentTransfers(server, token, 1, sql)) as [{ transferId: string; providerMessageId: string }];
      const release = await lockTransfers(server.databaseUrl!, [transferId]);
      const base = Date.now() - 60_000;
      const clicks = (from: number, count: number) =>
        Array.from({ length: count }, (_, index) => ({ event: "message.clicked", timestamp: new Date(base + from + index).toISOString(), message_id: providerMessageId }));
      const answers: Array<{ status: number; retryAfter: string | null; key: string }> = [];
      const post = async (payload: Record<string, unknown>) => {
        const answer = await postReceipt(server.url, payload);
        answers.push({ ...answer, key: String(payload.timestamp) });
        return answer;
      };
      try {
        for (const payload of clicks(0, 3)) expect((await post(payload)).status).toBe(200);
        let next = 3;
        const refused = await eventually(async () => {
          const answer = await post(clicks(next++, 1)[0]!);
          return answer.status === 503 ? answer : undefined;
        }, "the door to refuse past the backlog limit", 20_000, 100);
        expect(refused.retryAfter).toMatch(/^\d+$/);

        const metrics = await (await fetch(`${server.url}/metrics`)).text();
        expect(Number(/^ackline_receipt_backlog_events (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
        expect(Number(/^ackline_receipt_backlog_oldest_seconds ([\d.e+-]+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
        const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { receipts: { backlog: number; limit: number } };
        expect(ready.receipts.backlog).toBeGreaterThanOrEqual(3);
        expect(ready.receipts.limit).toBe(3);
      } finally {
        await release();
      }

      await receiptsFolded(server.url);
      const after = await eventually(async () => {
        const answer = await post(clicks(10_000, 1)[0]!);
        return answer.status === 200 ? answer : undefined;
      }, "the door to accept again", 20_000, 200);
      expect(after.body).toMatchObject({ stored: 1 });
      await receiptsFolded(server.url);

      // What was acknowledged is stored and folded once; what was refused is not stored at all.
      const stored = await sql<Array<{ occurred_at: Date }>>`
        SELECT occurred_at FROM receipt_events WHERE provider_message_id = ${providerMessageId} AND event = 'ACTION' AND NOT pending AND transfer_id = ${transferId}`;
      const storedKeys = stored.map((row) => row.occurred_at.toISOString()).sort();
      expect(storedKeys).toEqual(answers.filter((answer) => answer.status === 200).map((answer) => answer.key).sort());
      expect(answers.filter((answer) => answer.status === 503).length).toBeGreaterThan(0);
    }, 90_000);
  });

  describe("two instances folding one stream", () => {
    let a: TestServer;
    let b: TestServer;
    let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
    let sql: postgres.Sql;

    beforeAll(async () => {
      cpaas = await startFakeCpaas();
      a = await startTestServer({ redis: true, env: { CPAAS_API_URL: cpaas.url } });
      b = await startTestServer({ redis: true, databaseUrl: a.databaseUrl, env: { CPAAS_API_URL: cpaas.url } });
      sql = postgres(a.databaseUrl!, { max: 2, onnotice: () => {} });
    });
    afterAll(async () => {
      await sql?.end();
      await b?.close();
      await a?.close();
      await cpaas?.close();
    });

    it("never fold an event twice nor move a status backward, whatever order and door the receipts take", async () => {
      const token = await tokenFor(uniqueTenant("two-appliers"));
      const transfers = await sentTransfers(a, token, 8, sql);
      const clients = [wsClient(a.wsUrl, { Authorization: `Bearer ${token}` }), wsClient(b.wsUrl, { Authorization: `Bearer ${token}` })];
      const streams = transfers.flatMap(({ transferId }) => clients.map((client) => ({ transferId, updates: subscribe(client, TransferUpdatedDocument, { id: transferId }) })));
      try {
        for (const stream of streams) expect((await stream.updates.next()).data?.transferUpdated.event).toBeNull();

        // Each lifecycle step of each message, in a shuffled order, each posted twice: once to each instance, at once.
        const base = Date.now() - 60_000;
        const payloads = transfers.flatMap(({ providerMessageId }, target) =>
          LIFECYCLE.map((event, step) => ({ event, timestamp: new Date(base + target * 10 + step).toISOString(), message_id: providerMessageId, channel: "rcs" })),
        );
        const shuffled = payloads.map((payload) => ({ payload, order: Math.random() })).sort((x, y) => x.order - y.order);
        const answers = await Promise.all(shuffled.flatMap(({ payload }) => [postReceipt(a.url, payload), postReceipt(b.url, payload)]));
        expect(answers.every((answer) => answer.status === 200)).toBe(true);
        expect(answers.reduce((sum, answer) => sum + Number(answer.body.stored), 0)).toBe(payloads.length);
        await receiptsFolded(a.url);

        const [counts] = await sql<Array<{ rows: number; keys: number }>>`
          SELECT count(*)::int AS rows, count(DISTINCT dedupe_key)::int AS keys FROM receipt_events WHERE source = 'generic' AND NOT pending`;
        expect(counts).toEqual({ rows: payloads.length, keys: payloads.length });

        for (const stream of streams) {
          const seen: string[] = [];
          let rank = 0;
          while (seen.length < LIFECYCLE.length) {
            const update = (await stream.updates.next(15_000)).data!.transferUpdated;
            seen.push(update.event!.id);
            const status = update.transfer.messages[0]!.status;
            expect(RANK[status], `${stream.transferId} moved back to ${status}`).toBeGreaterThanOrEqual(rank);
            rank = RANK[status]!;
          }
          expect(new Set(seen).size, `${stream.transferId} heard an event twice`).toBe(LIFECYCLE.length);
          expect(rank).toBe(RANK.READ);
          // Nothing more comes: each event was folded, and published, once.
          await expect(stream.updates.next(500)).rejects.toThrow(/no subscription payload/);
        }
      } finally {
        for (const stream of streams) stream.updates.dispose();
        await Promise.all(clients.map(async (client) => client.dispose()));
      }
    }, 120_000);
  });
});
