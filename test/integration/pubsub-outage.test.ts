import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetTransferDocument, TransferUpdatedDocument } from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { subscribe, wsClient } from "../helpers/graphql.js";
import { startPrivateRedis, type PrivateRedis } from "../helpers/private-redis.js";
import { eventIdsInOrder, resumingSubscriber } from "../helpers/resuming-subscriber.js";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";
import { tokenFor } from "../helpers/server.js";
import { createTestDatabase, hasPostgres } from "../helpers/services.js";
import { firstOutcome, nextClose } from "../helpers/subscriptions.js";
import { createTransfer, sentTransfer } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { click, genericSignature } from "../helpers/webhooks.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** A delivery posted straight to the door: during an outage `/readyz` is down, so the shared helper cannot wait for the fold. */
async function post(serverUrl: string, payload: Record<string, unknown>): Promise<number> {
  const body = JSON.stringify(payload);
  const response = await fetch(`${serverUrl}/webhooks/generic`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-webhook-signature": genericSignature(body) },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  return response.status;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Redis stopped and started under a running Ackline (a process of its own, so anything that would
 * end it shows). Its own redis-server on another port; the machine's is never touched.
 */
describe.runIf(hasPostgres() || process.env.CI === "true")("a Redis outage", () => {
  let redis: PrivateRedis;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let server: ServerProcess;
  const clients: Client[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    database = await createTestDatabase();
    cpaas = await startFakeCpaas();
    server = await startServerProcess({ DATABASE_URL: database!.url, REDIS_URL: redis.url, CPAAS_API_URL: cpaas.url });
  });
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    await server?.stop();
    await cpaas?.close();
    await database?.drop();
    await redis?.stop();
  });

  const client = (token: string): Client => {
    const created = wsClient(server.wsUrl, { Authorization: `Bearer ${token}` });
    clients.push(created);
    return created;
  };

  const ready = async () => (await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(5000) })).status;

  it("never ends the process: subscribers are told, new subscriptions are refused with a cursor, webhooks are stored, and it recovers", async () => {
    const token = await tokenFor(uniqueTenant("outage"));
    const watched = await sentTransfer(server, cpaas, token, "+14165554001");
    const unwatched = await createTransfer(server, token, "+14165554002");

    const watcher = client(token);
    const updates = subscribe(watcher, TransferUpdatedDocument, { id: watched.transfer.id });
    expect((await updates.next(15_000)).data?.transferUpdated).toMatchObject({ event: null, cursor: null });
    // Another socket, open whether or not it carries an operation: it must stay open through the outage.
    const bystander = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false });
    clients.push(bystander);
    const bystanderClosed = nextClose(bystander);
    let bystanderWasClosed = false;
    void bystanderClosed.then(() => (bystanderWasClosed = true));
    expect(await firstOutcome(bystander, GetTransferDocument, { id: unwatched.id })).toMatchObject({ kind: "data" });

    await redis.stop();

    // The subscriber is told, with where to resume, rather than left waiting for what was lost.
    const interruption = await updates.next(10_000).then(
      () => "an update",
      (error: Error) => error.message,
    );
    expect(interruption).toContain("SUBSCRIPTION_INTERRUPTED");
    const cursor = (JSON.parse(interruption) as Array<{ extensions: { cursor: string } }>)[0]!.extensions.cursor;
    expect(cursor).toEqual(expect.any(String));

    // Subscriptions opened during the outage, on a transfer nobody else watches (what used to end
    // the process within 1.5 s): the state from the database, then an interruption to resume from.
    for (let attempt = 0; attempt < 3; attempt++) {
      const during = subscribe(client(token), TransferUpdatedDocument, { id: unwatched.id });
      expect((await during.next(10_000)).data?.transferUpdated).toMatchObject({ event: null, transfer: { id: unwatched.id } });
      await expect(during.next(10_000)).rejects.toThrow(/SUBSCRIPTION_INTERRUPTED/);
    }
    // Webhooks keep being acknowledged: PostgreSQL holds them.
    const t0 = Date.now();
    for (let i = 1; i <= 3; i++) expect(await post(server.url, click(watched.providerMessageId, t0 + i))).toBe(200);
    await sleep(2000);

    expect(server.exit()).toBeNull();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await ready()).toBe(503);
    expect(bystanderWasClosed).toBe(false);
    expect(await firstOutcome(bystander, GetTransferDocument, { id: unwatched.id })).toMatchObject({ kind: "data" });

    await redis.start();
    await eventually(async () => ((await ready()) === 200 ? true : undefined), "/readyz to see Redis again");

    // Resumed with the interruption's cursor: the three clicks stored during the outage, then live again.
    const resumed = resumingSubscriber(client(token), watched.transfer.id, { after: cursor });
    await eventually(() => (resumed.events.length >= 3 ? true : undefined), "the outage's events to be replayed");
    expect(await post(server.url, click(watched.providerMessageId, t0 + 10))).toBe(200);
    await eventually(() => (resumed.events.length >= 4 ? true : undefined), "a live event after Redis came back");
    resumed.stop();
    const after = await eventIdsInOrder(database!.url, watched.transfer.id);
    expect(resumed.events.map((event) => event.id)).toEqual(after.slice(-4));
    expect(resumed.events.map((event) => event.event)).toEqual(["ACTION", "ACTION", "ACTION", "ACTION"]);
    expect(resumed.failures).toEqual([]);
    expect(server.exit()).toBeNull();
  }, 90_000);

  it("a subscriber that resumes with its last cursor gets every update exactly once, in order, across a few seconds' outage under load", async () => {
    const token = await tokenFor(uniqueTenant("resume"));
    const { transfer, providerMessageId } = await sentTransfer(server, cpaas, token, "+14165554003");
    const watcher = resumingSubscriber(client(token), transfer.id, { retryMs: 250 });
    await eventually(() => (watcher.initialStates() === 1 ? true : undefined), "the first state");
    const before = await eventIdsInOrder(database!.url, transfer.id);

    // Webhooks keep arriving, one every 40 ms, before, during and after the outage.
    let posting = true;
    const statuses: number[] = [];
    const poster = (async () => {
      const t0 = Date.now();
      for (let i = 1; posting; i++) {
        statuses.push(await post(server.url, click(providerMessageId, t0 + i)));
        await sleep(40);
      }
    })();
    await sleep(1500);
    await redis.stop();
    await sleep(4000);
    await redis.start();
    await sleep(2000);
    posting = false;
    await poster;

    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.every((status) => status === 200)).toBe(true);
    const expected = (await eventIdsInOrder(database!.url, transfer.id)).slice(before.length);
    await eventually(() => (watcher.events.length >= expected.length ? true : undefined), "every stored event to reach the subscriber", 30_000);
    await sleep(500);
    watcher.stop();
    // It was told at least once, and resumed: no event missed, none twice, in the log's order.
    expect(watcher.interruptions.length).toBeGreaterThan(0);
    expect(watcher.failures).toEqual([]);
    expect(watcher.events.map((event) => event.id)).toEqual(expected);
    expect(server.exit()).toBeNull();
  }, 90_000);

  it("the README's example client resumes after its last update across an outage: each click printed once, in order", async () => {
    const token = await tokenFor(uniqueTenant("example"));
    const { transfer, providerMessageId } = await sentTransfer(server, cpaas, token, "+14165554004");
    const example = spawn(process.execPath, ["examples/watch-transfer.mjs", transfer.id, "--follow"], {
      cwd: root,
      env: { ...process.env, ACKLINE_URL: server.url, TOKEN: token },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    example.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    example.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const printed = () => stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line) as { event: { event: string; timestamp: string } | null });
    try {
      await eventually(() => (printed().length === 1 ? true : undefined), "the example to print the current state");
      const t0 = Date.now();
      const clicks: string[] = [];
      const postClick = async () => {
        const payload = click(providerMessageId, t0 + clicks.length + 1);
        clicks.push(payload.timestamp);
        expect(await post(server.url, payload)).toBe(200);
      };
      for (let i = 0; i < 3; i++) await postClick();
      await eventually(() => (printed().length === 4 ? true : undefined), "the clicks before the outage");
      await redis.stop();
      for (let i = 0; i < 3; i++) await postClick();
      await sleep(1500);
      await redis.start();
      for (let i = 0; i < 3; i++) await postClick();
      await eventually(() => (printed().length >= 10 ? true : undefined), "every click, resumed after the outage", 30_000);
      await sleep(500);
      expect(stderr).toContain("resuming after");
      expect(printed().slice(1).map((update) => update.event?.timestamp)).toEqual(clicks);
    } finally {
      example.kill();
    }
  }, 90_000);
});
