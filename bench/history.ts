/**
 * `npm run bench:history`: p95 of typical history and statistics queries through GraphQL over the
 * large seed (tenant `large`: 250,000 transfers, 1,000,000 receipt events over 90 days). The
 * scratch database `ackline_bench_history` (or BENCH_HISTORY_DATABASE_URL) is seeded once and
 * reused while it holds SEED_TRANSFERS transfers. An in-process Ackline answers; each query runs
 * BENCH_HISTORY_ITERATIONS times (default 60) with varied arguments after 5 warm-ups. Prints a
 * table with the load average, and PASS/FAIL against the targets (history ≤ 50 ms, stats ≤ 100 ms).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { SCOPES, signAccessToken } from "../src/auth/access-tokens.js";
import { createAckline } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { seedLarge } from "../scripts/seed-large.js";
import { SEED_TENANT } from "../scripts/seed-large.sql.js";
import { summarize } from "./stats.js";

const env = process.env;
const ADMIN_URL = env.BENCH_ADMIN_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const TRANSFERS = Number(env.SEED_TRANSFERS ?? 250_000);
const ITERATIONS = Number(env.BENCH_HISTORY_ITERATIONS ?? 60);
const SECRET = "bench-history-secret-with-enough-entropy-0123456789";
const DAY_MS = 86_400_000;
const CARRIERS = ["310260", "20801", "72405", "44010", "65501", "26201"];

async function scratchDatabase(): Promise<string> {
  if (env.BENCH_HISTORY_DATABASE_URL) return env.BENCH_HISTORY_DATABASE_URL;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  const [exists] = await admin`SELECT 1 FROM pg_database WHERE datname = 'ackline_bench_history'`;
  if (!exists) await admin.unsafe("CREATE DATABASE ackline_bench_history");
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = "/ackline_bench_history";
  return url.toString();
}

async function seededTransfers(url: string): Promise<number> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<[{ count: string }]>`SELECT count(*) FROM transfers WHERE tenant_id = ${SEED_TENANT}`;
    return Number(row.count);
  } catch {
    return 0; // not migrated yet
  } finally {
    await sql.end();
  }
}

type Query = { label: string; target: number; run: (i: number) => Promise<void> };

const pick = <T>(values: readonly T[], i: number) => values[i % values.length]!;

async function main() {
  const url = await scratchDatabase();
  if ((await seededTransfers(url)) !== TRANSFERS) {
    console.error(`[bench:history] seeding ${TRANSFERS} transfers into ${new URL(url).pathname.slice(1)}`);
    const started = performance.now();
    await seedLarge(url, TRANSFERS, (line) => console.error(`[bench:history] ${line}`));
    console.error(`[bench:history] seeded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), "ackline-bench-history-"));
  const ackline = await createAckline(
    await loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", DATA_DIR: dataDir, DATABASE_URL: url, AUTH_JWT_SECRET: SECRET, AUTH_AUDIENCE: "ackline" }),
  );
  const base = await ackline.listen();
  const token = await signAccessToken(SECRET, { tenantId: SEED_TENANT, scopes: SCOPES, audience: "ackline", expiresIn: "1h" });
  const ask = async (query: string, variables: Record<string, unknown>) => {
    const response = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data!;
  };
  const today = Date.parse(new Date().toISOString().slice(0, 10));
  const day = (i: number) => new Date(today - (1 + (i * 7) % 88) * DAY_MS);
  const PAGE = `query ($filter: ReceiptEventFilter, $after: String) { receiptEvents(filter: $filter, first: 50, after: $after) {
    edges { cursor node { id transferId messageId channel event timestamp provider carrier region } } pageInfo { hasNextPage endCursor } } }`;
  const page = (filter: Record<string, unknown>, after?: string) =>
    ask(PAGE, { filter, after }) as Promise<{ receiptEvents: { pageInfo: { endCursor: string | null } } }>;
  const nextOf = async (filter: Record<string, unknown>) => (await page(filter)).receiptEvents.pageInfo.endCursor ?? undefined;
  const STATS = `query ($groupBy: [StatsDimension!]!, $filter: ReceiptStatsFilter) { receiptStats(groupBy: $groupBy, filter: $filter) {
    key { channel provider carrier region day } transfers messages sent delivered read failed fallbacks downloads deliveryRate readRate downloadRate
    timeToDeliver { p50 p90 p99 } timeToRead { p50 p90 p99 } timeToDownload { p50 p90 p99 } } }`;
  const stats = (groupBy: string[], filter: Record<string, unknown>) => ask(STATS, { groupBy, filter });
  const lastDays = (days: number) => ({ from: new Date(today + DAY_MS - days * DAY_MS).toISOString() });

  const channelDay = (i: number) => ({ channel: pick(["RCS", "SMS", "EMAIL"], i), from: day(i).toISOString(), to: new Date(day(i).getTime() + DAY_MS).toISOString() });
  const carrierWeek = (i: number) => ({ carrier: pick(CARRIERS, i), event: "FAILED", from: day(i).toISOString(), to: new Date(day(i).getTime() + 7 * DAY_MS).toISOString() });
  // Cursors for the "next page" queries are read before timing starts.
  const cursors = new Map<string, string | undefined>();
  for (let i = 0; i < ITERATIONS + 5; i += 1) {
    cursors.set(`day${i}`, await nextOf(channelDay(i)));
    cursors.set(`carrier${i}`, await nextOf(carrierWeek(i)));
  }
  const transferIds = Array.from({ length: ITERATIONS + 5 }, (_, i) => `tr_large_${(i * 4099) % TRANSFERS}`);
  const queries: Query[] = [
    { label: "history: a transfer's events", target: 50, run: (i) => page({ transferId: transferIds[i] }).then(() => undefined) },
    { label: "history: a day of one channel", target: 50, run: (i) => page(channelDay(i)).then(() => undefined) },
    { label: "history: … its next page", target: 50, run: (i) => page(channelDay(i), cursors.get(`day${i}`)).then(() => undefined) },
    { label: "history: a carrier's failures over a week", target: 50, run: (i) => page(carrierWeek(i)).then(() => undefined) },
    { label: "history: … its next page", target: 50, run: (i) => page(carrierWeek(i), cursors.get(`carrier${i}`)).then(() => undefined) },
    { label: "stats: by CARRIER, last 7 days", target: 100, run: () => stats(["CARRIER"], lastDays(7)).then(() => undefined) },
    { label: "stats: by DAY, one channel, last 30 days", target: 100, run: (i) => stats(["DAY"], { ...lastDays(30), channel: pick(["RCS", "SMS", "EMAIL"], i) }).then(() => undefined) },
    { label: "stats: by REGION and CHANNEL, last 30 days", target: 100, run: () => stats(["REGION", "CHANNEL"], lastDays(30)).then(() => undefined) },
    { label: "stats: by PROVIDER, one carrier, 90 days", target: 100, run: (i) => stats(["PROVIDER"], { carrier: pick(CARRIERS, i) }).then(() => undefined) },
    { label: "stats: by CHANNEL, 90 days", target: 100, run: () => stats(["CHANNEL"], {}).then(() => undefined) },
    { label: "stats: by DAY, 90 days", target: 100, run: () => stats(["DAY"], {}).then(() => undefined) },
  ];
  const loadBefore = loadavg();
  const rows: Array<{ label: string; p50: number; p95: number; max: number; target: number }> = [];
  for (const query of queries) {
    for (let i = 0; i < 5; i += 1) await query.run(ITERATIONS + i);
    const times: number[] = [];
    for (let i = 0; i < ITERATIONS; i += 1) {
      const started = performance.now();
      await query.run(i);
      times.push(performance.now() - started);
    }
    const summary = summarize(times);
    const sorted = [...times].sort((a, b) => a - b);
    const p95 = Math.round(sorted[Math.ceil(0.95 * sorted.length) - 1]! * 10) / 10;
    rows.push({ label: query.label, p50: summary.p50, p95, max: summary.max, target: query.target });
  }
  const loadAfter = loadavg();
  await ackline.close();
  await rm(dataDir, { recursive: true, force: true });

  console.log(`\nHistory and statistics over tenant ${SEED_TENANT} (${TRANSFERS} transfers), ${ITERATIONS} runs each, through GraphQL`);
  console.log(`load average before ${loadBefore.map((value) => value.toFixed(2)).join(" ")}, after ${loadAfter.map((value) => value.toFixed(2)).join(" ")}\n`);
  console.log(`| query | p50 ms | p95 ms | max ms | target p95 | |\n| --- | --- | --- | --- | --- | --- |`);
  for (const row of rows) console.log(`| ${row.label} | ${row.p50} | ${row.p95} | ${row.max} | ≤ ${row.target} | ${row.p95 <= row.target ? "PASS" : "FAIL"} |`);
}

await main();
