import type { ChildProcess } from "node:child_process";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { TransferUpdatedDocument } from "../generated/graphql.js";
import { exited, startAcklineProcess } from "../helpers/ackline-process.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { startFreezableProxy } from "../helpers/tcp-proxy.js";
import { subscribe, wsClient } from "../helpers/graphql.js";
import { TEST_AUDIENCE, TEST_AUTH_SECRET, TEST_GENERIC_SECRET, tokenFor } from "../helpers/server.js";
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL } from "../helpers/services.js";
import { type CloseInfo, nextClose } from "../helpers/subscriptions.js";
import { sentTransfers } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { postReceipt } from "../helpers/webhooks.js";

const SHUTDOWN_TIMEOUT_MS = 10_000;
/** What starting and tearing down a Node process may add to the shutdown's own bound on a busy machine. */
const PROCESS_SLACK_MS = 3_000;
/** graphql-ws clients reconnect on 1012 ("service restart"); 1001 ("going away") reads as final to many. */
const SERVICE_RESTART = 1012;

/**
 * SIGTERM with webhooks in flight and subscribers connected (every deploy): the process ends
 * within SHUTDOWN_TIMEOUT_MS with code 0, tells subscribers to reconnect, and every webhook it
 * answered 200 is stored.
 */
describe.runIf(hasPostgres() && hasRedis())("shutdown on SIGTERM under load", () => {
  it("exits 0 within SHUTDOWN_TIMEOUT_MS, closes subscriptions with 1012, and keeps every acknowledged webhook", async () => {
    const database = (await createTestDatabase())!;
    const cpaas = await startFakeCpaas();
    const sql = postgres(database.url, { max: 2, onnotice: () => {} });
    let child: ChildProcess | undefined;
    try {
      const started = await startAcklineProcess({
        DATABASE_URL: database.url,
        REDIS_URL,
        AUTH_JWT_SECRET: TEST_AUTH_SECRET,
        AUTH_AUDIENCE: TEST_AUDIENCE,
        WEBHOOK_GENERIC_SECRET: TEST_GENERIC_SECRET,
        CPAAS_API_URL: cpaas.url,
        DATA_DIR: `/tmp/ackline-sigterm-${process.pid}`,
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      });
      child = started.process;
      const token = await tokenFor(uniqueTenant("sigterm"));
      const transfers = await sentTransfers(started, token, 3, sql);

      const wsUrl = `${started.url.replace(/^http/, "ws")}/graphql`;
      const subscribers = transfers.flatMap(({ transferId }) =>
        [0, 1].map(() => {
          const client = wsClient(wsUrl, { Authorization: `Bearer ${token}` });
          const closed = nextClose(client);
          return { client, closed, subscription: subscribe(client, TransferUpdatedDocument, { id: transferId }) };
        }),
      );
      // The current state first: every subscription is live before the load starts.
      for (const { subscription } of subscribers) expect((await subscription.next(20_000)).errors).toBeUndefined();

      // Distinct clicks (each its own dedupe key), posted by eight senders until the door is gone.
      const acknowledged = new Set<string>();
      const otherAnswers: Array<{ status: number; retryAfter: string | null }> = [];
      let sequence = 0;
      let exitedAt = 0;
      const sender = async () => {
        while (!exitedAt) {
          const { providerMessageId } = transfers[sequence % transfers.length]!;
          const payload = { event: "message.clicked", timestamp: new Date(Date.UTC(2026, 0, 1) + sequence++).toISOString(), message_id: providerMessageId };
          try {
            const { status, retryAfter } = await postReceipt(started.url, payload, { signal: AbortSignal.timeout(30_000) });
            if (status !== 200) otherAnswers.push({ status, retryAfter });
            if (status === 200) acknowledged.add(`generic:${payload.message_id}:${payload.event}:${payload.timestamp}`);
          } catch {
            // Refused connections once the server stopped listening: nothing was acknowledged.
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      };
      const senders = Array.from({ length: 50 }, sender);
      await eventually(() => (acknowledged.size >= 200 ? true : undefined), "the load to be under way", 30_000, 20);

      const signalledAt = Date.now();
      child.kill("SIGTERM");
      const ended = await Promise.race([
        exited(child),
        new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), SHUTDOWN_TIMEOUT_MS + 20_000)),
      ]);
      exitedAt = Date.now();
      await Promise.all(senders);

      expect(ended, "the process was still alive long after SIGTERM").not.toBe("hung");
      expect(ended).toEqual({ code: 0, signal: null });
      expect(exitedAt - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS + PROCESS_SLACK_MS);

      // What was not acknowledged was refused so that the provider retries it.
      for (const answer of otherAnswers) expect(answer).toMatchObject({ status: 503, retryAfter: expect.stringMatching(/^\d+$/) as unknown });

      const closes: CloseInfo[] = await Promise.all(subscribers.map(({ closed }) => closed));
      expect(closes.map(({ code }) => code)).toEqual(subscribers.map(() => SERVICE_RESTART));

      const stored = new Set(
        (await sql<Array<{ dedupe_key: string }>>`SELECT dedupe_key FROM receipt_events WHERE source = 'generic'`).map((row) => row.dedupe_key),
      );
      const lost = [...acknowledged].filter((key) => !stored.has(key));
      expect(acknowledged.size).toBeGreaterThanOrEqual(200);
      expect(lost).toEqual([]);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await sql.end();
      await database.drop();
      await cpaas.close();
    }
  }, 120_000);

  it("a database that stops answering does not hold the process past SHUTDOWN_TIMEOUT_MS", async () => {
    const database = (await createTestDatabase())!;
    const direct = new URL(database.url);
    const proxy = await startFreezableProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const throughProxy = new URL(direct);
    throughProxy.port = String(proxy.port);
    const shutdownTimeoutMs = 3000;
    let child: ChildProcess | undefined;
    try {
      const started = await startAcklineProcess({
        DATABASE_URL: throughProxy.toString(),
        AUTH_JWT_SECRET: TEST_AUTH_SECRET,
        WEBHOOK_GENERIC_SECRET: TEST_GENERIC_SECRET,
        CPAAS_API_URL: "http://127.0.0.1:9/unused",
        DATA_DIR: `/tmp/ackline-sigterm-frozen-${process.pid}`,
        SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
        DATABASE_REQUEST_TIMEOUT_MS: "1000",
      });
      child = started.process;
      proxy.freeze();
      // In flight while the database hangs: the door's deadline answers it, the loops' passes stay stuck.
      const inFlight = postReceipt(started.url, { event: "message.delivered", timestamp: new Date().toISOString(), message_id: "frozen-1" }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 1500));

      const signalledAt = Date.now();
      child.kill("SIGTERM");
      const ended = await Promise.race([exited(child), new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), shutdownTimeoutMs + 20_000))]);
      const took = Date.now() - signalledAt;
      expect(ended, "the process was still alive long after SIGTERM").not.toBe("hung");
      expect(took).toBeLessThan(shutdownTimeoutMs + PROCESS_SLACK_MS);
      // Nothing was acknowledged through the outage.
      expect((await inFlight)?.status).not.toBe(200);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      proxy.thaw();
      await proxy.close();
      await database.drop();
    }
  }, 120_000);
});
