/**
 * `npm run bench`: Ackline's webhook ingest and dispatch, each as a ratio to a reference measured
 * in the same run (the machine is shared and noisy). See bench/README.md for what each phase does.
 *
 * Webhook side (BENCH_PHASES has `webhooks`): wrk (`wrk.ts`, `wrk.lua`, one thread, 50
 * connections) replays 300,000 pre-signed, distinct `generic` webhooks over 2,000 transfers seeded
 * into a real Ackline against, in turn, the bare `node:http` server, the minimal durable door, Ackline's floor
 * and Ackline, which gives the ingest rate and the applied rate (first request → backlog empty);
 * then graphql-ws subscribers on those transfers time webhooks paced at 1,000/s; then the bare
 * server again. Dispatch side (`dispatch`, `dispatch.ts`): the dispatcher's sends/s against the
 * fake provider's raw rate.
 *
 * Results go to stdout (a table, then the targets with PASS/FAIL) and bench/results.json. The
 * knobs (BENCH_*) are read in `harness.ts` and listed in bench/README.md.
 */
import { spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import postgres from "postgres";
import { SCOPES, signAccessToken } from "../src/auth/access-tokens.js";
import { dispatchRows, dispatchThroughput } from "./dispatch.js";
import { startFakeCpaas } from "./fake-cpaas.js";
import { ADMIN_DATABASE_URL, AUTH_SECRET, CORES, CPAAS_TOKEN, cleanup, log, onCleanup, REDIS_URL, seedDirectly, settings, startAckline, TENANT } from "./harness.js";
import { bareRate, floorRate, ingestAndApplied } from "./ingest.js";
import { subscriberLatency } from "./latency.js";
import { printReport, targets, type WebhookMeasures, webhookResults, webhookRows } from "./report.js";
import { writeReplayFile } from "./webhooks.js";
import { ensureWrk } from "./wrk.js";

const here = path.dirname(fileURLToPath(import.meta.url));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

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

/** Bare, the two floors, Ackline's ingest and applied rates and its latency, bare again. */
async function webhookPhases(): Promise<WebhookMeasures> {
  // Ackline needs a provider to send to; the seeded messages are already sent, so it stays idle.
  const cpaas = await startFakeCpaas(CPAAS_TOKEN);
  onCleanup("stop fake CPaaS", () => cpaas.close());
  const { server: ackline, db } = await startAckline(cpaas.url);
  const token = await signAccessToken(AUTH_SECRET, { tenantId: TENANT, scopes: SCOPES, audience: "ackline", expiresIn: "2h" });
  // Real transfers, already sent, provider ids known: most webhooks move a message forward (sent → delivered → read).
  const { seeded, seconds: seedSeconds } = await seedDirectly(db, settings.transfers, "sent");
  // Provider times two hours back for the burst, one hour back for the latency run: distinct, and in that order.
  const file = await writeReplayFile(seeded, settings.webhooks, Date.now() - 7_200_000);

  const bareBefore = await bareRate(file, "before");
  const door = await floorRate("minimal durable door", "./door-server.ts", file);
  const floor = await floorRate("Ackline's floor", "./floor-server.ts", file);
  const { ingest, applied } = await ingestAndApplied(ackline, db, file, seeded);
  const latency = await subscriberLatency(ackline, db, token, seeded.slice(0, settings.latencyTransfers), Date.now() - 3_600_000);
  await ackline.close();
  const bareAfter = await bareRate(file, "after");
  return {
    seeding: { transfers: seeded.length, seconds: seedSeconds, how: "direct drizzle inserts: transfer + one RCS message, sent, provider id known" },
    webhooks: { count: file.count, overTransfers: seeded.length },
    bareBefore,
    bareAfter,
    door,
    floor,
    ingest,
    applied,
    latency,
  };
}

async function main() {
  const startedAt = new Date();
  await checkServices();
  await ensureWrk();
  const webhooks = settings.phases.includes("webhooks") ? webhookResults(await webhookPhases()) : undefined;
  const dispatch = settings.phases.includes("dispatch") ? await dispatchThroughput() : undefined;
  const targetList = targets(webhooks, dispatch);
  const results = {
    startedAt: startedAt.toISOString(),
    durationS: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
    machine: { cores: CORES, node: process.version, loadAverageAtEnd: loadavg().map((value) => Math.round(value * 100) / 100) },
    settings,
    ...webhooks,
    dispatch,
    targets: targetList,
  };
  const file = path.join(here, "results.json");
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  printReport([...(webhooks ? webhookRows(webhooks) : []), ...(dispatch ? dispatchRows(dispatch) : [])], targetList);
  console.log(`written: ${path.relative(process.cwd(), file)}`);
  // Its own process and table: it seeds (once) and queries a scratch database of its own.
  if (settings.phases.includes("history")) {
    const history = spawnSync(process.execPath, ["--import", "tsx", path.join(here, "history.ts")], { stdio: "inherit" });
    if (history.status !== 0) throw new Error(`the history phase failed (exit ${history.status})`);
  }
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
