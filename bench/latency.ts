import { Agent, request as httpRequest } from "node:http";
import { type Client, createClient } from "graphql-ws";
import WebSocket from "ws";
import { storedWebhooks } from "./checks.js";
import type { ChildServer } from "./child.js";
import { type BenchDatabase, CORES, log, metricsText, onCleanup, profiled, type Seeded, settings, sleep } from "./harness.js";
import { BATCH_METRIC } from "./ingest.js";
import { cpuMeter, histogramDelta, parseHistogram, summarize } from "./stats.js";
import { WebhookFactory } from "./webhooks.js";

/** Subscriptions being set up at once (each is a Redis SUBSCRIBE and a read of the transfer). */
const SUBSCRIBING_AT_ONCE = 50;

interface TransferUpdatedPayload {
  transferUpdated: { event: { id: string; event: string; timestamp: string } | null; transfer: { status: string } };
}

/**
 * Webhook → subscriber latency: graphql-ws subscribers (`transferUpdated`) on `targets`, then
 * webhooks for them paced at BENCH_LATENCY_RATE for BENCH_LATENCY_DURATION_S, each timed from just
 * before its POST to its event reaching the subscriber. Webhook i carries provider time
 * `baseMs` + i ms, which identifies it when it comes back.
 */
export async function subscriberLatency(server: ChildServer, db: BenchDatabase, token: string, targets: Seeded[], baseMs: number) {
  const { latencyRate: rate, latencyDurationS: durationS } = settings;
  const total = Math.round(rate * durationS);
  log(`latency: ${targets.length} subscribed transfers over ${settings.wsClients} graphql-ws clients, ${rate} webhooks/s for ${durationS} s`);

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

  /** Subscribes `transferId` on `client`; resolves once the current state arrived (the subscription is live). */
  const subscribe = (transferId: string, client: Client) =>
    new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`subscription to ${transferId} did not start within 30 s`)), 30_000);
      const dispose = client.subscribe<TransferUpdatedPayload>(
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
    });

  const subscribedAt = performance.now();
  // A bounded number of subscriptions starting at once, so each one's timeout is its own wait.
  let nextTarget = 0;
  await Promise.all(
    Array.from({ length: Math.min(targets.length, SUBSCRIBING_AT_ONCE) }, async () => {
      while (nextTarget < targets.length) {
        const index = nextTarget++;
        await subscribe(targets[index]!.transferId, clients[index % clients.length]!);
      }
    }),
  );
  const subscribeSeconds = Math.round((performance.now() - subscribedAt) / 100) / 10;
  log(`${targets.length} subscriptions live in ${subscribeSeconds} s`);

  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  onCleanup("close latency agent", () => agent.destroy());
  const { hostname, port } = new URL(server.url);
  const httpLatencies: number[] = [];
  const statuses: Record<string, number> = {};
  let requestErrors = 0;
  const inFlight = new Set<Promise<void>>();
  const factory = new WebhookFactory(targets, baseMs);

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
  const database = await storedWebhooks(db, baseMs, 0, sent);
  return {
    transfers: targets.length,
    subscribeSeconds,
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
    /** Each webhook was new: every acknowledged one must be a row, and nothing else. */
    database: { ...database, everyAcknowledgedStoredOnce: database.stored === ok },
  };
}
