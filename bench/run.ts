/**
 * `npm run bench`: Ackline's webhook ingest against a bare `node:http` server on the same machine,
 * and its dispatch queue against the fake provider it sends to.
 *
 * 1. baseline   — a bare `node:http` "hello" in its own process, autocannon (50 connections) from
 *                 this one; measured before and after the Ackline phases, the ratio uses the mean.
 * 2. ingest     — a real Ackline (PostgreSQL + Redis, fresh database `ackline_bench_<random>`) in
 *                 its own process; autocannon POSTs signed, unique `generic` webhooks for seeded
 *                 messages: verify + normalize + dedupe + store (group commit) + publish to Redis,
 *                 per request. Reported as a ratio to the baseline. Its 20k transfers are inserted
 *                 directly with drizzle (already sent, provider id known) so most webhooks move a
 *                 message forward (sent → delivered → read) as real traffic does.
 * 3. latency    — 100 transfers created through GraphQL `createTransfer`, sent by the dispatcher to a
 *                 local fake CPaaS that answers with known provider ids; graphql-ws subscribers on
 *                 them; webhooks sent at a fixed rate; the time from just before each POST to its
 *                 event arriving at the subscriber.
 *    floor      — (bench/floor-server.ts) the same webhooks into verify + one group-committed
 *                 INSERT per batch: the least a durable door can do here, for comparison.
 * 4. dispatch   — (bench/dispatch.ts) the fake CPaaS in its own process: its raw rate for the
 *                 adapter's own send request (autocannon, 25 connections, the most sends the
 *                 dispatcher has in flight), before and after; then a fresh Ackline sending 5,000
 *                 messages queued in one transaction, timed from its commit until the fake has
 *                 accepted them all. Reported as sends/s and a ratio to the raw rate.
 *
 * The machine is shared and noisy, so throughput is judged as a ratio against a reference measured
 * in the same run. Results go to stdout (a table) and bench/results.json.
 *
 * Knobs (environment): BENCH_PHASES (webhooks,dispatch: `webhooks` is phases 1–3 and the floor, `dispatch` is 4;
 * results.json then holds only what ran), BENCH_DURATION_S (10), BENCH_WARMUP_S (2),
 * BENCH_CONNECTIONS (50), BENCH_TRANSFERS (20000), BENCH_LATENCY_RATE (1000),
 * BENCH_LATENCY_DURATION_S (10), BENCH_LATENCY_TRANSFERS (100), BENCH_WS_CLIENTS (4),
 * BENCH_DISPATCH_MESSAGES (5000), BENCH_DISPATCH_CONNECTIONS (25: the raw rate's connections),
 * BENCH_ADMIN_DATABASE_URL, BENCH_REDIS_URL, BENCH_CPU_PROF=<dir> (V8 CPU profiles of the Ackline
 * process during the measured ingest, latency and dispatch windows, `ingest.cpuprofile`,
 * `latency.cpuprofile`, `dispatch.cpuprofile`; profiling slows it, so those runs' figures are not
 * comparable).
 */
import { createHmac } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { Agent, request as httpRequest } from "node:http";
import { loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type autocannon from "autocannon";
import { and, count, eq, inArray, isNotNull, isNull } from "drizzle-orm";
import { type Client, createClient } from "graphql-ws";
import { Redis } from "ioredis";
import postgres from "postgres";
import WebSocket from "ws";
import { SCOPES, signAccessToken } from "../src/auth/access-tokens.js";
import * as schema from "../src/db/schema.js";
import type { ChildServer } from "./child.js";
import { dispatchRows, dispatchThroughput } from "./dispatch.js";
import { startFakeCpaas } from "./fake-cpaas.js";
import {
  ADMIN_DATABASE_URL,
  AUTH_SECRET,
  type BenchDatabase,
  CORES,
  CPAAS_TOKEN,
  cleanup,
  createBenchDatabase,
  GENERIC_SECRET,
  hammer,
  log,
  onCleanup,
  profiled,
  REDIS_URL,
  type Seeded,
  seedDirectly,
  settings,
  sleep,
  startAckline,
  startServer,
  type TableRow,
  TENANT,
  warmedLoad,
} from "./harness.js";
import { cpuMeter, histogramDelta, parseHistogram, summarize } from "./stats.js";

const TARGET_RATIO = 0.25;
const TARGET_P99_MS = 25;
const here = path.dirname(fileURLToPath(import.meta.url));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ───────────────────────────── webhooks ─────────────────────────────

/** A message's life as its provider reports it: each round over the messages moves them one step, then taps. */
const LIFECYCLE = ["message.sent", "message.delivered", "message.read", "message.clicked"] as const;

/**
 * Unique, validly signed `generic` webhooks: event i targets message i mod n (round i / n picks
 * the lifecycle step) and carries the provider timestamp base + i ms, so its deduplication key
 * (message id + event + timestamp) is new and the timestamp alone identifies it when it comes back
 * through a subscription.
 */
class WebhookFactory {
  private sequence = 0;
  constructor(
    private readonly targets: ReadonlyArray<{ providerMessageId: string; phone: string }>,
    private readonly baseMs: number,
  ) {}

  get produced(): number {
    return this.sequence;
  }

  next(): { body: string; signature: string; timestampMs: number; target: number } {
    const index = this.sequence++;
    const target = index % this.targets.length;
    const { providerMessageId, phone } = this.targets[target]!;
    const timestampMs = this.baseMs + index;
    const body = JSON.stringify({
      event: LIFECYCLE[Math.min(LIFECYCLE.length - 1, Math.floor(index / this.targets.length))],
      timestamp: new Date(timestampMs).toISOString(),
      message_id: providerMessageId,
      recipient: phone,
      channel: "rcs",
      carrier: "302720",
      metadata: { delivery_code: 200, region: "CA-ON" },
    });
    return { body, signature: createHmac("sha256", GENERIC_SECRET).update(body).digest("hex"), timestampMs, target };
  }
}

// ───────────────────────────── helpers ─────────────────────────────

async function checkServices(): Promise<void> {
  const sql = postgres(ADMIN_DATABASE_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${ADMIN_DATABASE_URL}: ${(error as Error).message}`);
  } finally {
    await sql.end({ timeout: 1 });
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Redis is not reachable at ${REDIS_URL}: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

async function graphql<T>(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const result = (await response.json()) as { data?: T; errors?: Array<{ message: string }> };
  if (!result.data || result.errors?.length) throw new Error(`GraphQL ${response.status}: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** Runs `task` for 0..n-1 with at most `concurrency` at once. */
async function pool(n: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

async function metricsText(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  return response.text();
}

const BATCH_METRIC = "ackline_ingest_batch_events";

/** Webhook answers by status as Ackline itself counted them (`ackline_webhook_requests_total`). */
function webhookStatuses(text: string): Record<string, number> {
  const statuses: Record<string, number> = {};
  for (const match of text.matchAll(/^ackline_webhook_requests_total\{([^}]*)\} (\d+)/gm)) {
    const status = /status="(\d+)"/.exec(match[1]!)?.[1];
    if (status) statuses[status] = (statuses[status] ?? 0) + Number(match[2]);
  }
  return statuses;
}

function statusDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [status, n] of Object.entries(after)) {
    const change = n - (before[status] ?? 0);
    if (change !== 0) delta[status] = change;
  }
  return delta;
}

// ───────────────────────────── phases ─────────────────────────────

async function baseline(label: string) {
  log(`baseline (${label}): bare node:http hello, ${settings.connections} connections, ${settings.durationS} s`);
  const server = await startServer(`hello server (${label})`, "./hello-server.ts");
  try {
    return await warmedLoad(server);
  } finally {
    await server.close();
  }
}

/**
 * The latency set goes the whole real way: `createTransfer` over GraphQL, the dispatcher sends each
 * message to the fake CPaaS, which answers with a known provider id that Ackline records.
 */
async function seedThroughGraphql(url: string, token: string, providerIds: Map<string, string>, db: BenchDatabase, total: number) {
  log(`seeding ${total} transfers through createTransfer (the dispatcher sends each to the fake CPaaS)`);
  const startedAt = performance.now();
  const created: Array<{ transferId: string; phone: string }> = [];
  await pool(total, 8, async (index) => {
    const phone = `+1905${String(index).padStart(7, "0")}`;
    const data = await graphql<{ createTransfer: { id: string } }>(
      url,
      token,
      `mutation($input: CreateTransferInput!) { createTransfer(input: $input) { id } }`,
      { input: { recipient: { phone }, fileName: `bench-${index}.pdf`, fileSizeBytes: 1024 * (index + 1), senderName: "Bench" } },
    );
    created[index] = { transferId: data.createTransfer.id, phone };
  });
  // The provider's id is recorded by the dispatcher after the send API answers: wait for all of them.
  const ids = created.map(({ transferId }) => transferId);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [row] = await db
      .select({ n: count() })
      .from(schema.messages)
      .where(and(inArray(schema.messages.transferId, ids), isNotNull(schema.messages.providerMessageId)));
    if ((row?.n ?? 0) >= total && ids.every((id) => providerIds.has(id))) break;
    if (Date.now() > deadline) throw new Error(`only ${row?.n ?? 0} of ${total} messages got a provider id within 60 s`);
    await sleep(100);
  }
  const seconds = (performance.now() - startedAt) / 1000;
  log(`seeded ${total} transfers in ${seconds.toFixed(1)} s`);
  const seeded: Seeded[] = created.map(({ transferId, phone }) => ({ transferId, phone, providerMessageId: providerIds.get(transferId)! }));
  return { seeded, seconds: Math.round(seconds * 10) / 10 };
}

/** autocannon requests that each POST the factory's next signed webhook. */
function signedWebhookRequests(factory: WebhookFactory): autocannon.Request[] {
  return [
    {
      method: "POST",
      path: "/webhooks/generic",
      setupRequest: (request) => {
        const webhook = factory.next();
        return {
          ...request,
          body: webhook.body,
          headers: { "content-type": "application/json", "x-webhook-signature": webhook.signature },
        };
      },
    },
  ];
}

/** The floor (`floor-server.ts`): the same webhooks into the least a durable door can do. */
async function floorThroughput(targets: Seeded[]) {
  log(`floor: the same webhooks into verify + one group-committed INSERT, ${settings.connections} connections, ${settings.durationS} s`);
  const server = await startServer("floor server", "./floor-server.ts", { DATABASE_URL: await createBenchDatabase(), WEBHOOK_GENERIC_SECRET: GENERIC_SECRET });
  try {
    return await warmedLoad(server, signedWebhookRequests(new WebhookFactory(targets, Date.now() - 3_600_000)));
  } finally {
    await server.close();
  }
}

async function ingestThroughput(server: ChildServer, targets: Seeded[], db: BenchDatabase) {
  log(`ingest: signed unique webhooks over ${targets.length} messages, ${settings.connections} connections, ${settings.durationS} s`);
  const factory = new WebhookFactory(targets, Date.now() - 3_600_000);
  const requests = signedWebhookRequests(factory);
  const warmup = await hammer(server.url, settings.warmupS, requests);
  await sleep(500); // let requests abandoned at the warm-up's deadline settle before the snapshots
  const metricsBefore = await metricsText(server.url);
  const [storedBefore] = await db.select({ n: count() }).from(schema.receiptEvents).where(eq(schema.receiptEvents.source, "generic"));
  const cpu = cpuMeter(() => server.cpuMicros());
  const load = await profiled(server, "ingest", () => hammer(server.url, settings.durationS, requests));
  const cpuUse = await cpu(CORES);
  await sleep(500); // requests autocannon abandoned at the deadline may still be committing
  const metricsAfter = await metricsText(server.url);
  const [stored] = await db.select({ n: count() }).from(schema.receiptEvents).where(eq(schema.receiptEvents.source, "generic"));
  const [unmatched] = await db
    .select({ n: count() })
    .from(schema.receiptEvents)
    .where(and(eq(schema.receiptEvents.source, "generic"), isNull(schema.receiptEvents.messageId)));
  return {
    ...load,
    warmup: { okPerSec: warmup.okPerSec, non2xx: warmup.non2xx },
    cpu: cpuUse,
    serverStatuses: statusDelta(webhookStatuses(metricsBefore), webhookStatuses(metricsAfter)),
    batches: histogramDelta(parseHistogram(metricsBefore, BATCH_METRIC), parseHistogram(metricsAfter, BATCH_METRIC)),
    database: {
      /** Rows stored during the measured run: between `ok` and `sent` (abandoned requests may commit). */
      storedDuringRun: (stored?.n ?? 0) - (storedBefore?.n ?? 0),
      /** Every acknowledged webhook was new, so each must have added a row (no dedupe short-circuit). */
      everyAcknowledgedStored: (stored?.n ?? 0) - (storedBefore?.n ?? 0) >= load.ok,
      storedTotal: stored?.n ?? 0,
      webhooksSentTotal: factory.produced,
      unmatched: unmatched?.n ?? 0,
    },
  };
}

interface TransferUpdatedPayload {
  transferUpdated: { event: { id: string; event: string; timestamp: string } | null; transfer: { status: string } };
}

async function subscriberLatency(server: ChildServer, token: string, targets: Seeded[]) {
  const { latencyRate: rate, latencyDurationS: durationS } = settings;
  const total = Math.round(rate * durationS);
  log(`latency: ${targets.length} transfers, ${settings.wsClients} graphql-ws clients, ${rate} webhooks/s for ${durationS} s`);

  const wsUrl = `${server.url.replace(/^http/, "ws")}/graphql`;
  const clients: Client[] = Array.from({ length: settings.wsClients }, () =>
    createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: false }),
  );
  const disposers: Array<() => void> = [];
  const closeClients = async () => {
    disposers.forEach((dispose) => dispose());
    await Promise.all(clients.map(async (client) => client.dispose()));
  };
  onCleanup("close graphql-ws clients", closeClients);

  /** Send time (performance.now()) of each webhook still in flight, keyed by its unique provider timestamp. */
  const pending = new Map<number, { sentAt: number; transferId: string }>();
  const latencies: number[] = [];
  let unexpected = 0;
  let wrongTransfer = 0;
  const subscriptionErrors: string[] = [];
  let allReceived: (() => void) | undefined;
  let sendingDone = false;

  await Promise.all(
    targets.map(
      ({ transferId }, index) =>
        new Promise<void>((ready, fail) => {
          const timer = setTimeout(() => fail(new Error(`subscription to ${transferId} did not start within 15 s`)), 15_000);
          const dispose = clients[index % clients.length]!.subscribe<TransferUpdatedPayload>(
            {
              query: `subscription($id: ID!) { transferUpdated(id: $id) { event { id event timestamp } transfer { status } } }`,
              variables: { id: transferId },
            },
            {
              next: (value) => {
                const receivedAt = performance.now();
                const update = value.data?.transferUpdated;
                if (value.errors?.length) subscriptionErrors.push(JSON.stringify(value.errors));
                if (!update?.event) {
                  // The current state comes first: the subscription is live.
                  clearTimeout(timer);
                  ready();
                  return;
                }
                const key = Date.parse(update.event.timestamp);
                const sent = pending.get(key);
                if (!sent) {
                  unexpected += 1;
                  return;
                }
                if (sent.transferId !== transferId) wrongTransfer += 1;
                pending.delete(key);
                latencies.push(receivedAt - sent.sentAt);
                if (sendingDone && pending.size === 0) allReceived?.();
              },
              error: (error) => {
                subscriptionErrors.push(error instanceof Error ? error.message : JSON.stringify(error));
                clearTimeout(timer);
                fail(new Error(`subscription to ${transferId} failed: ${subscriptionErrors.at(-1)}`));
              },
              complete: () => {},
            },
          );
          disposers.push(dispose);
        }),
    ),
  );
  log(`${targets.length} subscriptions live`);

  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  onCleanup("close latency agent", () => agent.destroy());
  const { hostname, port } = new URL(server.url);
  const httpLatencies: number[] = [];
  const statuses: Record<string, number> = {};
  let requestErrors = 0;
  const inFlight = new Set<Promise<void>>();
  const factory = new WebhookFactory(targets, Date.now() - 7_200_000);

  const sendOne = () => {
    const webhook = factory.next();
    const transferId = targets[webhook.target]!.transferId;
    const sentAt = performance.now();
    pending.set(webhook.timestampMs, { sentAt, transferId });
    const done = new Promise<void>((resolve) => {
      const request = httpRequest(
        {
          agent,
          hostname,
          port,
          method: "POST",
          path: "/webhooks/generic",
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(webhook.body),
            "x-webhook-signature": webhook.signature,
          },
        },
        (response) => {
          response.resume();
          response.on("end", () => {
            httpLatencies.push(performance.now() - sentAt);
            const status = String(response.statusCode);
            statuses[status] = (statuses[status] ?? 0) + 1;
            // Not acknowledged means not stored: it will never reach a subscriber.
            if (response.statusCode !== 200) pending.delete(webhook.timestampMs);
            resolve();
          });
        },
      );
      request.on("error", () => {
        requestErrors += 1;
        pending.delete(webhook.timestampMs);
        resolve();
      });
      request.end(webhook.body);
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };

  const metricsBefore = await metricsText(server.url);
  const cpu = cpuMeter(() => server.cpuMicros());
  let sent = 0;
  let sendSeconds = 0;
  await profiled(server, "latency", async () => {
    const startedAt = performance.now();
    // Paced, not bursty: every millisecond tick sends what the schedule says is due by now.
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - startedAt) / 1000) * rate));
        while (sent < due) {
          sendOne();
          sent += 1;
        }
        if (sent >= total) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    sendSeconds = (performance.now() - startedAt) / 1000;
    await Promise.all(inFlight);
    sendingDone = true;
    if (pending.size > 0) {
      await Promise.race([new Promise<void>((resolve) => (allReceived = resolve)), sleep(5_000)]);
    }
  });
  const cpuUse = await cpu(CORES);
  const metricsAfter = await metricsText(server.url);
  await closeClients();

  const ok = statuses["200"] ?? 0;
  return {
    rateTarget: rate,
    rateAchieved: Math.round(sent / sendSeconds),
    sent,
    acknowledged: ok,
    non2xx: sent - ok - requestErrors,
    requestErrors,
    received: latencies.length,
    lost: pending.size,
    unexpected,
    wrongTransfer,
    subscriptionErrors: subscriptionErrors.slice(0, 5),
    endToEndMs: summarize(latencies),
    webhookResponseMs: summarize(httpLatencies),
    cpu: cpuUse,
    batches: histogramDelta(parseHistogram(metricsBefore, BATCH_METRIC), parseHistogram(metricsAfter, BATCH_METRIC)),
  };
}

// ───────────────────────────── main ─────────────────────────────

async function main() {
  const startedAt = new Date();
  await checkServices();
  const webhooks = settings.phases.includes("webhooks") ? await webhookPhases() : undefined;
  const dispatch = settings.phases.includes("dispatch") ? await dispatchThroughput() : undefined;
  const results = {
    startedAt: startedAt.toISOString(),
    durationS: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
    machine: { cores: CORES, node: process.version, loadAverageAtEnd: loadavg().map((value) => Math.round(value * 100) / 100) },
    settings,
    ...webhooks,
    dispatch,
  };
  await writeFile(path.join(here, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  printTable([...(webhooks ? webhookRows(webhooks) : []), ...(dispatch ? dispatchRows(dispatch) : [])]);
}

/** Baseline before, ingest and latency on one Ackline, baseline after. */
async function webhookPhases() {
  const before = await baseline("before");

  const cpaas = await startFakeCpaas(CPAAS_TOKEN);
  onCleanup("stop fake CPaaS", () => cpaas.close());
  const { server: ackline, db } = await startAckline(cpaas.url);
  const token = await signAccessToken(AUTH_SECRET, { tenantId: TENANT, scopes: SCOPES, audience: "ackline", expiresIn: "2h" });

  const latencySet = await seedThroughGraphql(ackline.url, token, cpaas.providerIdByTransfer, db, settings.latencyTransfers);
  // Many messages, already sent: most webhooks move a message forward (sent → delivered → read), as real traffic does.
  const ingestSet = await seedDirectly(db, settings.transfers, "sent");
  const ingest = await ingestThroughput(ackline, ingestSet.seeded, db);
  await sleep(1000);
  const latency = await subscriberLatency(ackline, token, latencySet.seeded);
  await ackline.close();

  const floor = await floorThroughput(ingestSet.seeded);
  const after = await baseline("after");
  const seeding = {
    ingestTransfers: { count: ingestSet.seeded.length, how: "direct drizzle inserts", seconds: ingestSet.seconds },
    latencyTransfers: { count: latencySet.seeded.length, how: "GraphQL createTransfer + dispatcher + fake CPaaS", seconds: latencySet.seconds },
  };
  return webhookResults(before, after, ingest, floor, latency, seeding);
}

type BaselineResult = Awaited<ReturnType<typeof baseline>>;

function webhookResults(
  before: BaselineResult,
  after: BaselineResult,
  ingest: Awaited<ReturnType<typeof ingestThroughput>>,
  floor: Awaited<ReturnType<typeof floorThroughput>>,
  latency: Awaited<ReturnType<typeof subscriberLatency>>,
  seeding: Record<string, { count: number; how: string; seconds: number }>,
) {
  const baselinePerSec = Math.round((before.okPerSec + after.okPerSec) / 2);
  const thousandths = (value: number) => Math.round(value * 1000) / 1000;
  const ratio = thousandths(ingest.okPerSec / baselinePerSec);
  return {
    seeding,
    baseline: { okPerSec: baselinePerSec, before, after },
    floor: { ...floor, ratioToBaseline: thousandths(floor.okPerSec / baselinePerSec), ingestShareOfFloor: thousandths(ingest.okPerSec / floor.okPerSec) },
    ingest: {
      ...ingest,
      ratioToBaseline: ratio,
      target: `>= ${TARGET_RATIO}x baseline`,
      pass:
        ratio >= TARGET_RATIO &&
        ingest.non2xx === 0 &&
        ingest.errors === 0 &&
        ingest.database.unmatched === 0 &&
        ingest.database.everyAcknowledgedStored,
    },
    latency: {
      ...latency,
      target: `p99 <= ${TARGET_P99_MS} ms at ${settings.latencyRate}/s`,
      pass: latency.endToEndMs.p99 <= TARGET_P99_MS && latency.lost === 0 && latency.non2xx === 0 && latency.requestErrors === 0,
    },
  };
}

function webhookRows(r: ReturnType<typeof webhookResults>): TableRow[] {
  return [
    ["baseline node:http hello", `${r.baseline.okPerSec} req/s`, `before ${r.baseline.before.okPerSec}, after ${r.baseline.after.okPerSec}; server cpu ${r.baseline.before.cpu.serverProcessPct}%`],
    [
      "webhook ingest (generic)",
      `${r.ingest.okPerSec} req/s = ${r.ingest.ratioToBaseline}x ${r.ingest.pass ? "PASS" : "FAIL"} (>= ${TARGET_RATIO}x)`,
      `non-2xx ${r.ingest.non2xx}, errors ${r.ingest.errors}, p99 ${r.ingest.latencyMs.p99} ms, unmatched ${r.ingest.database.unmatched}`,
    ],
    [
      "  durable floor (verify + INSERT)",
      `${r.floor.okPerSec} req/s = ${r.floor.ratioToBaseline}x`,
      `ingest reaches ${r.floor.ingestShareOfFloor} of it; non-2xx ${r.floor.non2xx}, p99 ${r.floor.latencyMs.p99} ms; server cpu ${r.floor.cpu.serverProcessPct}%, machine ${r.floor.cpu.machineBusyPct ?? "?"}%/${CORES * 100}%`,
    ],
    [
      "  ingest batches",
      `mean ${r.ingest.batches.meanBatch} events/tx`,
      `${r.ingest.batches.batches} tx; cpu: server ${r.ingest.cpu.serverProcessPct}%, loadgen ${r.ingest.cpu.loadGeneratorPct}%, machine ${r.ingest.cpu.machineBusyPct ?? "?"}%/${CORES * 100}%`,
    ],
    [
      `webhook -> subscriber @ ${r.latency.rateTarget}/s`,
      `p50 ${r.latency.endToEndMs.p50} / p99 ${r.latency.endToEndMs.p99} / max ${r.latency.endToEndMs.max} ms ${r.latency.pass ? "PASS" : "FAIL"} (p99 <= ${TARGET_P99_MS})`,
      `received ${r.latency.received}/${r.latency.sent} (lost ${r.latency.lost}), non-2xx ${r.latency.non2xx}, achieved ${r.latency.rateAchieved}/s`,
    ],
    [
      "  webhook HTTP answer",
      `p50 ${r.latency.webhookResponseMs.p50} / p99 ${r.latency.webhookResponseMs.p99} ms`,
      `mean batch ${r.latency.batches.meanBatch} events/tx; cpu: server ${r.latency.cpu.serverProcessPct}%, machine ${r.latency.cpu.machineBusyPct ?? "?"}%`,
    ],
  ];
}

function printTable(rows: TableRow[]): void {
  const width = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column as 0 | 1 | 2].length)));
  console.log("");
  for (const row of rows) console.log(`${row[0].padEnd(width[0]!)}  ${row[1].padEnd(width[1]!)}  ${row[2]}`);
  console.log(`\nmachine: ${CORES} cores, load average ${loadavg().map((value) => value.toFixed(2)).join(" ")} (shared: compare ratios, not absolutes)`);
  console.log(`written: ${path.relative(process.cwd(), path.join(here, "results.json"))}`);
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  exitCode = 1;
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
} finally {
  await cleanup();
}
process.exit(exitCode);
