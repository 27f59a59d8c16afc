import { and, count, countDistinct, eq, sql } from "drizzle-orm";
import { exportJWK, generateKeyPair } from "jose";
import { SigningKeys } from "../src/auth/signing-keys.js";
import { deliveryAttempts, messages } from "../src/db/schema.js";
import { createGenericCpaasAdapter } from "../src/delivery/generic-cpaas.adapter.js";
import { sendRequest } from "../test/helpers/send-request.js";
import type { ChildServer } from "./child.js";
import type { FakeCpaasStats } from "./fake-cpaas.js";
import { type BenchDatabase, CORES, CPAAS_TOKEN, log, profiled, seedDirectly, settings, sleep, startAckline, startServer, type TableRow } from "./harness.js";
import { cpuMeter } from "./stats.js";
import { warmedLoad, wrk, type WrkLoad } from "./wrk.js";

/**
 * The dispatch phase: how fast the durable queue hands messages to a provider, as a ratio to how
 * fast that provider answers when hammered directly.
 *
 * - raw rate: wrk POSTs the generic CPaaS adapter's own request (built by the adapter, with a real
 *   signed link and the bearer token; a new client_message_id each time) straight at the fake
 *   CPaaS, measured before and after the dispatch run; the ratio uses the mean. It runs at
 *   BENCH_DISPATCH_CONNECTIONS (25): the dispatcher keeps at most 25 sends in flight per worker,
 *   so at that concurrency the raw rate is the most it could get from this provider (each RCS
 *   send also asks the capability query first, which the raw rate does not count).
 * - dispatch rate: a fresh Ackline (own process, fresh database) sending to the same fake
 *   process; BENCH_DISPATCH_MESSAGES transfers with one queued RCS message each are inserted in
 *   one transaction, and the clock runs from its commit until the fake has accepted every message.
 *   The fake runs in its own process in both.
 */
export async function dispatchThroughput() {
  const fake = await startServer("fake CPaaS", "./fake-cpaas-server.ts", { FAKE_CPAAS_TOKEN: CPAAS_TOKEN });
  try {
    const load = rawSendLoad(fake, await adapterRequest());
    const before = await rawProviderRate(fake, load, "before");
    const run = await dispatchRun(fake);
    const after = await rawProviderRate(fake, load, "after");
    const rawPerSec = Math.round((before.okPerSec + after.okPerSec) / 2);
    return {
      rawProvider: { okPerSec: rawPerSec, connections: settings.dispatchConnections, before, after },
      ...run,
      ratioToRaw: Math.round((run.sendsPerSec / rawPerSec) * 1000) / 1000,
    };
  } finally {
    await fake.close();
  }
}

/** One send as the generic CPaaS adapter makes it: its own code builds the request, around a real signed link. */
async function adapterRequest(): Promise<{ headers: Record<string, string>; body: string }> {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const signingKeys = await SigningKeys.load([{ ...(await exportJWK(privateKey)), kid: "bench" }]);
  const send = sendRequest("RCS", { expiresAt: new Date(Date.now() + 7 * 24 * 3600 * 1000) });
  const token = await signingKeys.signLinkToken(send.transfer.id, send.transfer.expiresAt);
  let captured: RequestInit | undefined;
  const adapter = createGenericCpaasAdapter({
    apiUrl: "http://127.0.0.1:0",
    token: CPAAS_TOKEN,
    provider: "cpaas",
    fetch: async (_url, init) => {
      captured = init;
      return Response.json({ id: "captured" }, { status: 202 });
    },
  });
  await adapter.send({ ...send, link: `http://127.0.0.1:3000/t/${send.transfer.id}?tok=${token}` });
  if (!captured) throw new Error("the generic CPaaS adapter sent nothing");
  return { headers: captured.headers as Record<string, string>, body: captured.body as string };
}

/** The adapter's request for wrk, with a client_message_id of its own each time, as distinct messages have (`wrk.lua`). */
function rawSendLoad(fake: ChildServer, request: { headers: Record<string, string>; body: string }): WrkLoad {
  const body = JSON.parse(request.body) as Record<string, unknown>;
  return {
    url: `${fake.url}/v1/messages`,
    headers: request.headers,
    env: { WRK_BODY: JSON.stringify({ ...body, client_message_id: "{id}" }) },
  };
}

async function fakeStats(fake: ChildServer): Promise<FakeCpaasStats> {
  const response = await fetch(`${fake.url}/stats`);
  return (await response.json()) as FakeCpaasStats;
}

async function resetFakeStats(fake: ChildServer): Promise<void> {
  await fetch(`${fake.url}/stats`, { method: "DELETE" });
}

async function rawProviderRate(fake: ChildServer, load: WrkLoad, label: string) {
  log(`raw fake CPaaS (${label}): the adapter's send request, wrk, ${settings.dispatchConnections} connections, ${settings.durationS} s`);
  await resetFakeStats(fake);
  let run = 0;
  // Each run's ids are new to the fake: a prefix per run, a counter within it.
  return warmedLoad(fake, (durationS) =>
    wrk({ ...load, env: { ...load.env, WRK_ID_PREFIX: `raw-${label}-${run++}-` } }, durationS, settings.dispatchConnections),
  );
}

/** Polls the fake until it has accepted `total` messages; fails when nothing moves for 30 s. */
async function allAccepted(fake: ChildServer, total: number): Promise<FakeCpaasStats> {
  let progressAt = Date.now();
  let last = 0;
  for (;;) {
    const stats = await fakeStats(fake);
    if (stats.accepted >= total) return stats;
    if (stats.accepted > last) {
      last = stats.accepted;
      progressAt = Date.now();
    } else if (Date.now() - progressAt > 30_000) {
      throw new Error(`dispatch stalled: the fake CPaaS accepted ${stats.accepted} of ${total} messages, none in the last 30 s`);
    }
    await sleep(50);
  }
}

async function dispatchRun(fake: ChildServer) {
  const total = settings.dispatchMessages;
  const { server: ackline, db } = await startAckline(fake.url);
  try {
    await resetFakeStats(fake);
    log(`dispatch: ${total} queued messages, dispatcher -> fake CPaaS`);
    const seeding = await seedDirectly(db, total, "queued");
    // The rows become visible to the dispatcher (which polls every 500 ms) at the commit: the clock starts there.
    const queuedAt = Date.now();
    const acklineCpu = cpuMeter(() => ackline.cpuMicros());
    const fakeCpu = cpuMeter(() => fake.cpuMicros());
    const stats = await profiled(ackline, "dispatch", () => allAccepted(fake, total));
    const cpu = { ackline: await acklineCpu(CORES), fake: await fakeCpu(CORES) };
    const windowMs = stats.lastAcceptedAt! - queuedAt;
    const database = await recordedInDatabase(db, total);
    log(`dispatched ${total} in ${(windowMs / 1000).toFixed(1)} s`);
    return {
      messages: total,
      seedSeconds: seeding.seconds,
      sendsPerSec: Math.round(total / (windowMs / 1000)),
      windowS: Math.round(windowMs / 100) / 10,
      /** From the commit to the first send: the dispatcher's poll interval, then its first claim. */
      pickupMs: stats.firstAcceptedAt! - queuedAt,
      fake: { accepted: stats.accepted, duplicates: stats.duplicates },
      database,
      cpu: { acklinePct: cpu.ackline.serverProcessPct, fakePct: cpu.fake.serverProcessPct, machineBusyPct: cpu.ackline.machineBusyPct },
      /** Correctness only (there is no throughput target yet): no duplicate sends, every message recorded as accepted. */
      checksOk: stats.duplicates === 0 && database.doneWithProviderId === total && database.acceptedMessages === total,
    };
  } finally {
    await ackline.close();
  }
}

/**
 * The dispatcher's own record of the run: every message done with the fake's provider id, and
 * attempts by outcome. The last batch is recorded just after the fake answered it, so this waits
 * a little for it.
 */
async function recordedInDatabase(db: BenchDatabase, total: number) {
  const doneWithProviderId = async () => {
    const [row] = await db
      .select({ n: count() })
      .from(messages)
      .where(and(eq(messages.dispatchState, "done"), eq(messages.providerMessageId, sql`'bench_' || ${messages.clientMessageId}`)));
    return row?.n ?? 0;
  };
  const deadline = Date.now() + 10_000;
  let done = await doneWithProviderId();
  while (done < total && Date.now() < deadline) {
    await sleep(100);
    done = await doneWithProviderId();
  }
  const outcomes = await db
    .select({ outcome: deliveryAttempts.outcome, attempts: count(), messages: countDistinct(deliveryAttempts.messageId) })
    .from(deliveryAttempts)
    .groupBy(deliveryAttempts.outcome);
  return {
    doneWithProviderId: done,
    acceptedMessages: outcomes.find(({ outcome }) => outcome === "ACCEPTED")?.messages ?? 0,
    attemptsByOutcome: Object.fromEntries(outcomes.map(({ outcome, attempts }) => [outcome, attempts])),
  };
}

type DispatchResult = Awaited<ReturnType<typeof dispatchThroughput>>;

export function dispatchRows(r: DispatchResult): TableRow[] {
  const { okPerSec, connections, before, after } = r.rawProvider;
  return [
    [
      "raw fake CPaaS send API",
      `${okPerSec} req/s`,
      `${connections} connections; before ${before.okPerSec}, after ${after.okPerSec}; non-2xx ${before.non2xx + after.non2xx}; fake cpu ${before.cpu.serverProcessPct}%`,
    ],
    [
      "dispatch queue -> fake CPaaS",
      `${r.sendsPerSec} sends/s = ${r.ratioToRaw}x raw`,
      `${r.fake.accepted}/${r.messages} accepted in ${r.windowS} s (first after ${r.pickupMs} ms), duplicates ${r.fake.duplicates}, ` +
        `done in db ${r.database.doneWithProviderId}, ${r.checksOk ? "checks ok" : "CHECKS FAILED"}`,
    ],
    [
      "  dispatch cpu",
      `ackline ${r.cpu.acklinePct}%, fake ${r.cpu.fakePct}%`,
      `machine ${r.cpu.machineBusyPct ?? "?"}%/${CORES * 100}%; attempts ${JSON.stringify(r.database.attemptsByOutcome)}`,
    ],
  ];
}
