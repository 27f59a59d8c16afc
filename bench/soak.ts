/**
 * `npm run soak`: three Ackline instances on one PostgreSQL and one Redis, graphql-ws subscribers
 * spread across them (one socket each), signed webhooks posted to a random live instance at a
 * steady rate, and one instance killed (SIGKILL) and restarted halfway. Subscribers whose socket
 * drops, or who are told SUBSCRIPTION_INTERRUPTED, resume on a live instance with `after` set to
 * their last cursor, as the README tells clients to.
 *
 * It reports webhooks and deliveries per second, webhook → subscriber latency (p50/p99 over every
 * delivery, over those of webhooks posted before the kill, and over those of subscribers never
 * interrupted), server memory per connection (resident memory grown while subscribing), and
 * the counts that must be zero: acknowledged webhooks not stored, events a subscriber missed, and
 * events a subscriber got twice. Knobs: SOAK_SUBSCRIBERS (5000), SOAK_TRANSFERS (1000),
 * SOAK_RATE (webhooks/s, 200), SOAK_DURATION_S (120). Not part of `npm test`.
 */
import { readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { type Client, createClient } from "graphql-ws";
import postgres from "postgres";
import WebSocket from "ws";
import { SCOPES, signAccessToken } from "../src/auth/access-tokens.js";
import type { ChildServer } from "./child.js";
import { startFakeCpaas } from "./fake-cpaas.js";
import { acklineEnv, AUTH_SECRET, benchClient, cleanup, CPAAS_TOKEN, createBenchDatabase, log, onCleanup, seedDirectly, sleep, startServer, TENANT } from "./harness.js";
import { summarize } from "./stats.js";
import { WebhookFactory } from "./webhooks.js";

const knob = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};
const SUBSCRIBERS = knob("SOAK_SUBSCRIBERS", 5000);
const TRANSFERS = Math.min(SUBSCRIBERS, knob("SOAK_TRANSFERS", 1000));
const RATE = knob("SOAK_RATE", 200);
const DURATION_S = knob("SOAK_DURATION_S", 120);
const INSTANCES = 3;
/** Subscriptions being set up at once. */
const SUBSCRIBING_AT_ONCE = 100;

const QUERY = "subscription ($id: ID!, $after: String) { transferUpdated(id: $id, after: $after) { event { timestamp } cursor } }";

interface Instance {
  name: string;
  server: ChildServer;
  up: boolean;
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

async function main() {
  log(`soak: ${INSTANCES} instances, ${SUBSCRIBERS} subscribers over ${TRANSFERS} transfers, ${RATE} webhooks/s for ${DURATION_S} s, one instance killed halfway`);
  const cpaas = await startFakeCpaas(CPAAS_TOKEN);
  onCleanup("stop fake CPaaS", () => cpaas.close());
  const { url: databaseUrl } = await createBenchDatabase();
  const db = benchClient(databaseUrl);
  const instances: Instance[] = [];
  const startInstance = async (name: string): Promise<Instance> => ({ name, server: await startServer(name, "./ackline-server.ts", await acklineEnv(databaseUrl, cpaas.url)), up: true });
  // One after the other: the first migrates the database.
  for (let i = 0; i < INSTANCES; i++) instances.push(await startInstance(`Ackline ${i + 1}`));
  const { seeded } = await seedDirectly(db, TRANSFERS, "sent");
  const token = await signAccessToken(AUTH_SECRET, { tenantId: TENANT, scopes: SCOPES, audience: "ackline", expiresIn: "2h" });
  const live = () => instances.filter((instance) => instance.up);
  const anyLive = () => live()[Math.floor(Math.random() * live().length)]!;

  // ── subscribers ──
  const sentAt = new Map<number, number>();
  /** Every delivery; those of webhooks posted before the kill (steady state); those to subscribers never interrupted. */
  const latencies = { all: [] as number[], beforeKill: [] as number[], neverInterrupted: [] as number[] };
  let killedAt = Number.POSITIVE_INFINITY;
  const subscribers = seeded.length === 0 ? [] : Array.from({ length: SUBSCRIBERS }, (_, index) => ({
    transferId: seeded[index % seeded.length]!.transferId,
    home: instances[index % INSTANCES]!,
    cursor: null as string | null,
    received: new Map<number, number>(),
    resumes: 0,
    client: undefined as Client | undefined,
  }));
  type Subscriber = (typeof subscribers)[number];
  const unexpectedErrors: string[] = [];
  let stopping = false;

  const subscribe = (subscriber: Subscriber, instance: Instance) =>
    new Promise<void>((started) => {
      const client = createClient({
        url: `${instance.server.url.replace(/^http/, "ws")}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { Authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: false,
        // A dropped socket reaches the subscription's own error handler, which resumes.
        onNonLazyError: () => {},
      });
      subscriber.client = client;
      const resume = () => {
        started();
        void client.dispose();
        if (stopping) return;
        subscriber.resumes += 1;
        setTimeout(() => void subscribe(subscriber, anyLive()), 200 + Math.random() * 300);
      };
      client.subscribe<{ transferUpdated: { event: { timestamp: string } | null; cursor: string | null } }>(
        { query: QUERY, variables: { id: subscriber.transferId, after: subscriber.cursor } },
        {
          next: ({ data }) => {
            started();
            const update = data?.transferUpdated;
            if (!update?.event) return;
            const timestamp = Date.parse(update.event.timestamp);
            subscriber.received.set(timestamp, (subscriber.received.get(timestamp) ?? 0) + 1);
            subscriber.cursor = update.cursor ?? subscriber.cursor;
            const postedAt = sentAt.get(timestamp);
            if (postedAt === undefined) return;
            const latency = performance.now() - postedAt;
            latencies.all.push(latency);
            if (postedAt < killedAt) latencies.beforeKill.push(latency);
            if (subscriber.resumes === 0) latencies.neverInterrupted.push(latency);
          },
          error: (error: unknown) => {
            const [first] = Array.isArray(error) ? (error as Array<{ extensions?: { code?: string; cursor?: string } }>) : [];
            if (first?.extensions?.code === "SUBSCRIPTION_INTERRUPTED") subscriber.cursor = first.extensions.cursor ?? subscriber.cursor;
            else if (first) unexpectedErrors.push(JSON.stringify(first));
            resume();
          },
          complete: resume,
        },
      );
    });

  const rssBefore = await Promise.all(instances.map((instance) => rssBytes(instance.server.pid)));
  const subscribeStartedAt = performance.now();
  for (let start = 0; start < subscribers.length; start += SUBSCRIBING_AT_ONCE) {
    await Promise.all(subscribers.slice(start, start + SUBSCRIBING_AT_ONCE).map((subscriber) => subscribe(subscriber, subscriber.home)));
  }
  const subscribeSeconds = (performance.now() - subscribeStartedAt) / 1000;
  await sleep(1000);
  const rssAfter = await Promise.all(instances.map((instance) => rssBytes(instance.server.pid)));
  const perConnection = instances.map((_, i) => (rssAfter[i]! - rssBefore[i]!) / subscribers.filter((subscriber) => subscriber.home === instances[i]).length);
  log(`${subscribers.length} subscribed in ${subscribeSeconds.toFixed(1)} s; server memory per connection ${perConnection.map((bytes) => `${(bytes / 1024).toFixed(1)} KB`).join(", ")}`);

  // ── webhooks at a steady rate, one instance killed and restarted halfway ──
  const baseMs = Date.now() - 3_600_000;
  const factory = new WebhookFactory(seeded, baseMs);
  const acknowledged: number[] = [];
  const refused: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const post = (instance: Instance) => {
    const webhook = factory.next();
    sentAt.set(webhook.timestampMs, performance.now());
    const request = fetch(`${instance.server.url}/webhooks/generic`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-webhook-signature": webhook.signature },
      body: webhook.body,
      signal: AbortSignal.timeout(15_000),
    })
      .then(async (response) => {
        await response.body?.cancel();
        if (response.status === 200) acknowledged.push(webhook.timestampMs);
        else refused[response.status] = (refused[response.status] ?? 0) + 1;
      })
      .catch(() => {
        refused.network = (refused.network ?? 0) + 1;
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  const killing = (async () => {
    await sleep((DURATION_S * 1000) / 2);
    const victim = instances[1]!;
    victim.up = false;
    killedAt = performance.now();
    process.kill(victim.server.pid, "SIGKILL");
    log(`killed ${victim.name} (SIGKILL)`);
    await sleep(1000);
    victim.server = await startServer(`${victim.name} (restarted)`, "./ackline-server.ts", await acklineEnv(databaseUrl, cpaas.url));
    victim.up = true;
    log(`restarted ${victim.name}`);
  })();
  const postingStartedAt = performance.now();
  let posted = 0;
  while (performance.now() - postingStartedAt < DURATION_S * 1000) {
    const due = Math.floor(((performance.now() - postingStartedAt) / 1000) * RATE);
    for (; posted < due; posted++) post(anyLive());
    await sleep(5);
  }
  const postingSeconds = (performance.now() - postingStartedAt) / 1000;
  await Promise.all(inFlight);
  await killing;

  // ── drain, then count ──
  await waitForFold(instances[0]!.server.url);
  await sleep(3000);
  stopping = true;
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const rows = await sql<Array<{ transfer_id: string; at: string }>>`
    SELECT transfer_id, (extract(epoch FROM occurred_at) * 1000)::bigint::text AS at FROM receipt_events WHERE source = 'generic' AND occurred_at >= ${new Date(baseMs)}`;
  await sql.end();
  const storedByTransfer = new Map<string, Set<number>>();
  for (const row of rows) storedByTransfer.set(row.transfer_id, (storedByTransfer.get(row.transfer_id) ?? new Set()).add(Number(row.at)));
  const stored = new Set(rows.map((row) => Number(row.at)));
  const acknowledgedLost = acknowledged.filter((timestamp) => !stored.has(timestamp)).length;
  let missed = 0;
  let duplicated = 0;
  let deliveries = 0;
  for (const subscriber of subscribers) {
    for (const timestamp of storedByTransfer.get(subscriber.transferId) ?? []) if (!subscriber.received.has(timestamp)) missed += 1;
    for (const count of subscriber.received.values()) {
      deliveries += count;
      duplicated += count - 1;
    }
  }
  await Promise.all(subscribers.map(async (subscriber) => subscriber.client?.dispose()));

  const ms = (values: number[]) => {
    const { count, p50, p99, max } = summarize(values);
    return { count, p50, p99, max };
  };
  const results = {
    settings: { instances: INSTANCES, subscribers: SUBSCRIBERS, transfers: TRANSFERS, rate: RATE, durationS: DURATION_S },
    loadAverageAtEnd: loadavg().map((value) => Math.round(value * 100) / 100),
    subscribeSeconds: Math.round(subscribeSeconds * 10) / 10,
    memoryPerConnectionKB: perConnection.map((bytes) => Math.round(bytes / 102.4) / 10),
    webhooks: { posted, acknowledged: acknowledged.length, refused, acknowledgedPerSecond: Math.round(acknowledged.length / postingSeconds), stored: stored.size },
    deliveries: { total: deliveries, perSecond: Math.round(deliveries / postingSeconds) },
    latencyMs: { all: ms(latencies.all), beforeKill: ms(latencies.beforeKill), neverInterrupted: ms(latencies.neverInterrupted) },
    resumes: subscribers.reduce((sum, subscriber) => sum + subscriber.resumes, 0),
    counts: { acknowledgedLost, missed, duplicated, unexpectedErrors: unexpectedErrors.length },
  };
  console.log(JSON.stringify(results, null, 2));
  if (unexpectedErrors.length > 0) log(`first unexpected error: ${unexpectedErrors[0]}`);
  return acknowledgedLost === 0 && missed === 0 && duplicated === 0;
}

/** Until the appliers have folded every acknowledged event (the backlog is shared by all instances). */
async function waitForFold(url: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const ready = (await (await fetch(`${url}/readyz`)).json()) as { receipts?: { backlog: number } };
    if (ready.receipts?.backlog === 0) return;
    await sleep(100);
  }
  throw new Error("the receipt backlog did not empty within a minute");
}

let exitCode = 0;
try {
  if (!(await main())) exitCode = 1;
} catch (error) {
  exitCode = 1;
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
} finally {
  await cleanup();
}
process.exit(exitCode);
