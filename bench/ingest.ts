import postgres from "postgres";
import { statusesNotFolded, storedWebhooks } from "./checks.js";
import type { ChildServer } from "./child.js";
import {
  type BenchDatabase,
  CORES,
  createBenchDatabase,
  GENERIC_SECRET,
  log,
  metricsText,
  profiled,
  type Seeded,
  settings,
  sleep,
  startServer,
} from "./harness.js";
import { cpuMeter, histogramDelta, labelDelta, metricByLabel, metricValue, parseHistogram } from "./stats.js";
import type { ReplayFile } from "./webhooks.js";
import { Replay, warmedLoad } from "./wrk.js";

/**
 * The webhook side's throughput phases, all driven by wrk replaying the same file of pre-signed
 * webhooks (`webhooks.ts`, `wrk.lua`): the bare server, the two floors, and Ackline itself, whose
 * run gives both the ingest rate (acknowledged) and the applied rate (acknowledged and folded).
 */

export const BATCH_METRIC = "ackline_ingest_batch_events";
const BACKLOG_METRIC = "ackline_receipt_backlog_events";
const BACKLOG_OLDEST_METRIC = "ackline_receipt_backlog_oldest_seconds";
const WEBHOOK_REQUESTS_METRIC = "ackline_webhook_requests_total";
/** A backlog that has not shrunk for this long is stuck: the applied rate is then a failure. */
const DRAIN_STALL_MS = 30_000;

const webhookUrl = (server: ChildServer) => `${server.url}/webhooks/generic`;

/** The bare `node:http` server (`hello-server.ts`) under the same replayed webhooks. */
export async function bareRate(file: ReplayFile, label: string) {
  log(`bare node:http (${label}): wrk, ${settings.connections} connections, ${settings.durationS} s`);
  const server = await startServer(`bare server (${label})`, "./hello-server.ts");
  try {
    const replay = new Replay(file, webhookUrl(server));
    return await warmedLoad(server, (durationS) => replay.run(durationS));
  } finally {
    await server.close();
  }
}

/**
 * A floor (`door-server.ts`: the minimal door; `floor-server.ts`: Ackline's parts) on a fresh
 * database, and how many of the webhooks it acknowledged (warm-up included) are rows.
 */
export async function floorRate(name: string, script: string, file: ReplayFile) {
  log(`${name}: wrk, ${settings.connections} connections, ${settings.durationS} s`);
  const database = await createBenchDatabase();
  const server = await startServer(name, script, { DATABASE_URL: database.url, WEBHOOK_GENERIC_SECRET: GENERIC_SECRET });
  const replay = new Replay(file, webhookUrl(server));
  let acknowledged = 0;
  const load = await warmedLoad(server, async (durationS) => {
    const result = await replay.run(durationS);
    acknowledged += result.ok;
    return result;
  }).finally(() => server.close()); // requests wrk abandoned at its deadline are committed once it has closed
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const [row] = await sql<Array<{ n: string }>>`SELECT count(*) AS n FROM floor_events`.finally(() => sql.end());
  await database.drop();
  const rows = Number(row?.n ?? 0);
  // Past the file's end webhooks repeat, and a repeat is acknowledged without a new row.
  return { ...load, database: { rows, acknowledged, everyAcknowledgedStored: rows >= Math.min(acknowledged, file.count) } };
}

/** Ackline's receipt backlog from `/metrics`; 0 when Ackline has no such gauge (it folds inline). */
async function backlog(url: string) {
  const text = await metricsText(url);
  const events = metricValue(text, BACKLOG_METRIC);
  return { events: events ?? 0, oldestSeconds: metricValue(text, BACKLOG_OLDEST_METRIC) ?? 0, reported: events !== undefined };
}

/** Polls the backlog until it is empty: how long that took, and what it was at the start. */
async function drainBacklog(url: string) {
  const startedAt = performance.now();
  const first = await backlog(url);
  let { events } = first;
  let lowest = events;
  let progressAt = startedAt;
  let polledAt = startedAt;
  while (events > 0 && polledAt - progressAt < DRAIN_STALL_MS) {
    await sleep(50);
    polledAt = performance.now();
    ({ events } = await backlog(url));
    if (events < lowest) {
      lowest = events;
      progressAt = polledAt;
    }
  }
  return {
    drained: events === 0,
    /** From the end of the load to the first poll that found the backlog empty. */
    seconds: Math.round(((events === 0 ? polledAt : performance.now()) - startedAt) / 10) / 100,
    atLoadEnd: { events: first.events, oldestSeconds: first.oldestSeconds },
    left: events,
    gaugeReported: first.reported,
  };
}

/**
 * Ackline under the replayed webhooks over `seeded`: a warm-up (folded before going on), then the
 * measured run. Ingest is what it acknowledged per second of the run; applied is the same events
 * over the run plus the time until the backlog was empty (first request → backlog 0). Then the
 * checks: every acknowledged webhook of the run is one row (and each 200 Ackline counted is one),
 * none unmatched, and every seeded message's and transfer's status folded from its events.
 */
export async function ingestAndApplied(server: ChildServer, db: BenchDatabase, file: ReplayFile, seeded: ReadonlyArray<Seeded>) {
  log(`ingest: ${file.count} signed webhooks over ${seeded.length} transfers, wrk, ${settings.connections} connections, ${settings.durationS} s`);
  const replay = new Replay(file, webhookUrl(server));
  const warmup = await replay.run(settings.warmupS);
  await drainBacklog(server.url);
  await sleep(500); // requests wrk abandoned at the warm-up's deadline are answered by then
  const metricsBefore = await metricsText(server.url);
  const cpu = cpuMeter(() => server.cpuMicros());
  const load = await profiled(server, "ingest", () => replay.run(settings.durationS));
  const drain = await drainBacklog(server.url);
  const cpuUse = await cpu(CORES);
  await sleep(500); // and those of the measured run,
  await drainBacklog(server.url); // and folded, before the checks
  const metricsAfter = await metricsText(server.url);
  const { from, to, wrapped } = load.replayed;
  const stored = await storedWebhooks(db, file.baseMs, from, Math.min(to, file.count));
  const serverStatuses = labelDelta(metricByLabel(metricsBefore, WEBHOOK_REQUESTS_METRIC, "status"), metricByLabel(metricsAfter, WEBHOOK_REQUESTS_METRIC, "status"));
  const serverOk = metricValue(metricsAfter, WEBHOOK_REQUESTS_METRIC) === undefined ? undefined : (serverStatuses["200"] ?? 0);
  const statuses = await statusesNotFolded(db, seeded);
  const windowS = load.durationS + drain.seconds;
  return {
    ingest: {
      ...load,
      warmup: { okPerSec: warmup.okPerSec, non2xx: warmup.non2xx },
      /** Over the run and the drain after it. */
      cpu: cpuUse,
      serverStatuses,
      batches: histogramDelta(parseHistogram(metricsBefore, BATCH_METRIC), parseHistogram(metricsAfter, BATCH_METRIC)),
      database: {
        ...stored,
        /**
         * Each webhook of the run was new: every one wrk saw acknowledged is a row, and every 200
         * Ackline answered (wrk may have left some unread at its deadline) is exactly one row.
         */
        everyAcknowledgedStoredOnce: !wrapped && stored.stored >= load.ok && (serverOk === undefined || stored.stored === serverOk),
        serverAcknowledged: serverOk,
        replayFileExhausted: wrapped,
      },
    },
    applied: {
      events: load.ok,
      windowS: Math.round(windowS * 100) / 100,
      perSec: Math.round(load.ok / windowS),
      drain,
      statuses,
      folded: drain.drained && stored.unmatched === 0 && statuses.messagesBehind === 0 && statuses.transfersBehind === 0,
    },
  };
}
