import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { CreateTransferDocument, GetTransferDocument } from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { errorCodes, graphql, wsClient } from "../helpers/graphql.js";
import { startPrivatePostgres } from "../helpers/private-postgres.js";
import { startTestServer, tokenFor } from "../helpers/server.js";
import { createTestDatabase, hasPostgres } from "../helpers/services.js";
import { firstOutcome } from "../helpers/subscriptions.js";
import { startFreezableProxy } from "../helpers/tcp-proxy.js";
import { createTransfer, getTransfer, sentTransfer } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { postReceipt } from "../helpers/webhooks.js";

/** Far past every deadline of the server's, far short of a hang: a request still open by then was held. */
const HELD = 10_000;
/** `/readyz` answers within a second; the rest is a busy machine's slack. */
const READINESS_BOUND_MS = 3000;

/** A database Ackline can lose and get back: stopped and started, or frozen and thawed. */
interface Outage {
  url: string;
  begin(): Promise<void>;
  end(): Promise<void>;
  destroy(): Promise<void>;
}

async function stoppedServer(): Promise<Outage> {
  const cluster = await startPrivatePostgres();
  return { url: cluster.url, begin: () => cluster.stop(), end: () => cluster.start(), destroy: () => cluster.destroy() };
}

async function frozenConnections(): Promise<Outage> {
  const database = (await createTestDatabase())!;
  const direct = new URL(database.url);
  const proxy = await startFreezableProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const throughProxy = new URL(direct);
  throughProxy.port = String(proxy.port);
  return {
    url: throughProxy.toString(),
    begin: async () => proxy.freeze(),
    end: async () => proxy.thaw(),
    async destroy() {
      proxy.thaw();
      await proxy.close();
      await database.drop();
    },
  };
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work;
  return { value, ms: Date.now() - started };
}

/**
 * Through the outage every door answers, and none falsely: webhooks 503 with Retry-After,
 * `/readyz` 503 within about a second, GraphQL SERVICE_UNAVAILABLE. Afterwards, without a
 * restart, the same server stores, dispatches and folds again, and every webhook it acknowledged
 * is in the database.
 */
async function survivesOutage(outage: Outage): Promise<void> {
  const cpaas = await startFakeCpaas();
  const server = await startTestServer({
    databaseUrl: outage.url,
    env: { CPAAS_API_URL: cpaas.url, DATABASE_REQUEST_TIMEOUT_MS: "1000", DATABASE_CONNECT_TIMEOUT_MS: "1000" },
  });
  try {
    const token = await tokenFor(uniqueTenant("outage"));
    const { transfer, providerMessageId } = await sentTransfer(server, cpaas, token, "+14165553011");
    const acknowledged = new Set<string>();
    const click = (n: number) => ({ event: "message.clicked", timestamp: new Date(Date.UTC(2026, 0, 1) + n).toISOString(), message_id: providerMessageId });
    const post = async (payload: Record<string, string>) => {
      const answer = await postReceipt(server.url, payload, { signal: AbortSignal.timeout(HELD) });
      if (answer.status === 200) acknowledged.add(`generic:${payload.message_id}:${payload.event}:${payload.timestamp}`);
      return answer;
    };
    for (let n = 0; n < 3; n++) expect((await post(click(n))).status).toBe(200);

    const refused = [3, 4, 5, 6];
    const socket = wsClient(server.wsUrl, { Authorization: `Bearer ${token}` });
    await outage.begin();
    try {
      const [webhooks, ready, query, mutation, overWebSocket] = await Promise.all([
        Promise.all(refused.map((n) => post(click(n)))),
        timed(fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(HELD) })),
        graphql(server.url, GetTransferDocument, { id: transfer.id }, token, { signal: AbortSignal.timeout(HELD) }),
        graphql(
          server.url,
          CreateTransferDocument,
          { input: { recipient: { phone: "+14165553012" }, fileName: "a.pdf", fileSizeBytes: 1, senderName: "Acme" } },
          token,
          { signal: AbortSignal.timeout(HELD) },
        ),
        firstOutcome(socket, GetTransferDocument, { id: transfer.id }, HELD),
      ]);
      for (const answer of webhooks) {
        expect(answer.status).toBe(503);
        expect(answer.retryAfter).toMatch(/^\d+$/);
      }
      expect(ready.value.status).toBe(503);
      expect(ready.ms).toBeLessThan(READINESS_BOUND_MS);
      expect(errorCodes(query.body)).toEqual(["SERVICE_UNAVAILABLE"]);
      expect(errorCodes(mutation.body)).toEqual(["SERVICE_UNAVAILABLE"]);
      expect(overWebSocket.kind === "errors" && overWebSocket.errors.map((error) => error.extensions?.code)).toEqual(["SERVICE_UNAVAILABLE"]);
      // The driver's message (hosts, ports) stays in the log.
      expect(query.body.errors?.[0]?.message).toBe("the database is unavailable, retry later");
    } finally {
      await socket.dispose();
      await outage.end();
    }

    // The same process, no restart: the providers' retries are stored (or found already stored).
    for (const n of refused) {
      await eventually(async () => ((await post(click(n))).status === 200 ? true : undefined), `the retry of click ${n} to be stored`, 30_000, 200);
    }
    await eventually(async () => ((await fetch(`${server.url}/readyz`)).status === 200 ? true : undefined), "/readyz to recover", 30_000, 200);
    // The dispatcher's loop survived: a new transfer is sent…
    const after = await createTransfer(server, token, "+14165553013");
    await cpaas.waitForSend(after.id, 30_000);
    // …and so did the applier's: a receipt moves the first transfer's status.
    expect((await post({ event: "message.delivered", timestamp: new Date().toISOString(), message_id: providerMessageId })).status).toBe(200);
    await eventually(async () => ((await getTransfer(server, token, transfer.id))?.status === "DELIVERED" ? true : undefined), "the receipt to be folded", 30_000, 100);

    const sql = postgres(outage.url, { max: 1, onnotice: () => {} });
    try {
      const stored = new Set((await sql<Array<{ dedupe_key: string }>>`SELECT dedupe_key FROM receipt_events WHERE source = 'generic'`).map((row) => row.dedupe_key));
      expect([...acknowledged].filter((key) => !stored.has(key))).toEqual([]);
      expect(acknowledged.size).toBe(3 + refused.length + 1);
    } finally {
      await sql.end();
    }
  } finally {
    await server.close();
    await cpaas.close();
    await outage.destroy();
  }
}

describe.runIf(hasPostgres())("a database outage (failing fast, recovering without a restart)", () => {
  it("PostgreSQL stopped, then started again", async () => {
    await survivesOutage(await stoppedServer());
  }, 120_000);

  it("PostgreSQL frozen (connections hang without closing), then answering again", async () => {
    await survivesOutage(await frozenConnections());
  }, 120_000);
});
