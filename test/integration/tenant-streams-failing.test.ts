import { setTimeout as delay } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ReceiptEventAddedDocument, TransfersUpdatedDocument } from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { subscribe, wsClient } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { hasRedis, REDIS_URL } from "../helpers/services.js";
import { firstOutcome } from "../helpers/subscriptions.js";
import { createTransfer } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";

const BUFFERED_UPDATES = 200;
/** Far more than the socket buffers of both ends hold, so a reader that stops reading is soon past its allowance. */
const UPDATES = 3000;
const PER_MESSAGE = 20;
const PADDING = "x".repeat(16_000);

/** A graphql-transport-ws socket that stops reading once subscribed, and counts what it got when it reads again. */
async function stalledSubscriber(wsUrl: string, token: string) {
  const socket = new WebSocket(wsUrl, "graphql-transport-ws");
  let frames = 0;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  const acknowledged = new Promise<void>((resolve) => socket.on("message", (data: Buffer) => (data.toString().includes("connection_ack") ? resolve() : frames++)));
  await new Promise((resolve) => socket.once("open", resolve));
  socket.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${token}` } }));
  await acknowledged;
  socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: "subscription { transfersUpdated { transfer { id fileName } } }" } }));
  return { socket, closed, frames: () => frames };
}

describe.runIf(hasRedis() || process.env.CI === "true")("tenant streams: refusals and slow sockets", () => {
  let server: TestServer;
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let redis: Redis;

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, WS_MAX_BUFFERED_UPDATES: String(BUFFERED_UPDATES) } });
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.close();
    await cpaas?.close();
  });

  it("each stream needs its scope: FORBIDDEN without it", async () => {
    const token = await tokenFor(uniqueTenant("scopes"), { scopes: ["transfers:write"] });
    const client = wsClient(server.wsUrl, { Authorization: `Bearer ${token}` });
    for (const outcome of [await firstOutcome(client, TransfersUpdatedDocument, {}), await firstOutcome(client, ReceiptEventAddedDocument, {})]) {
      expect(outcome).toMatchObject({ kind: "errors", errors: [{ extensions: { code: "FORBIDDEN" } }] });
    }
    await client.dispose();
  });

  it("a socket that stops reading is closed with 4429 past WS_MAX_BUFFERED_UPDATES; the tenant's other sockets get every update meanwhile", async () => {
    const tenant = uniqueTenant("slow");
    const token = await tokenFor(tenant);
    // A real update of the tenant, as the server publishes it, to send again (larger) many times.
    const listener = redis.duplicate();
    const captured = new Promise<string>((resolve) => listener.on("message", (_topic, payload: string) => resolve(payload)));
    await listener.subscribe(`ackline.tenant.${tenant}`);
    await createTransfer(server, token, "+14165550301");
    const [update] = JSON.parse(await captured) as Array<{ transfer: { fileName: string } }>;
    listener.disconnect();
    update!.transfer.fileName = PADDING;
    const batch = JSON.stringify(Array.from({ length: PER_MESSAGE }, () => update));

    const slow = await stalledSubscriber(server.wsUrl, token);
    const fastClient = wsClient(server.wsUrl, { Authorization: `Bearer ${token}` });
    const fast = subscribe(fastClient, TransfersUpdatedDocument, {});
    await delay(500);
    slow.socket.pause();

    let fastReceived = 0;
    const fastDone = (async () => {
      while (fastReceived < UPDATES) {
        await fast.next(20_000);
        fastReceived++;
      }
    })();
    for (let sent = 0; sent < UPDATES; sent += PER_MESSAGE) {
      await redis.publish(`ackline.tenant.${tenant}`, batch);
      await delay(5);
    }
    await fastDone;
    expect(fastReceived).toBe(UPDATES);

    // Reading again, it finds what had been written before it fell behind, then the close.
    slow.socket.resume();
    const close = await slow.closed;
    expect(close.code).toBe(4429);
    expect(close.reason).toContain("resume");
    // Bounded: it got what the socket buffers held and its allowance, never the rest.
    expect(slow.frames()).toBeGreaterThan(0);
    expect(slow.frames()).toBeLessThan(UPDATES);

    // The fast socket lives on.
    await createTransfer(server, token, "+14165550302");
    await eventually(async () => ((await fast.next()).data?.transfersUpdated.transfer.id ? true : undefined), "the fast socket's next update");
    await fastClient.dispose();
  }, 60_000);
});
