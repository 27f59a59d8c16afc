import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "../src/db/schema.js";
import { newId } from "../src/domain/ids.js";
import { type ChildServer, startChildServer } from "./child.js";
import { summarizeProfile } from "./profile-summary.js";

/**
 * What the bench's phases share (the webhook side in `ingest.ts` and `latency.ts`, sending in
 * `dispatch.ts`): the knobs, cleanup, the services, child servers, databases and seeding.
 */

const env = process.env;
const positive = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};

/**
 * `webhooks`: bare, floors, ingest, applied and latency; `dispatch`: sends through the queue against
 * the raw fake provider; `history`: history and statistics p95 over the seeded million (`history.ts`).
 */
const PHASES = ["webhooks", "dispatch", "history"] as const;
export type Phase = (typeof PHASES)[number];
function phases(): Phase[] {
  const names = (env.BENCH_PHASES ?? PHASES.join(",")).split(",").map((name) => name.trim());
  const unknown = names.filter((name) => !PHASES.includes(name as Phase));
  if (unknown.length > 0 || names.length === 0) throw new Error(`BENCH_PHASES takes a comma-separated list of ${PHASES.join(", ")}`);
  return PHASES.filter((phase) => names.includes(phase));
}

/** wrk runs whole seconds. */
const seconds = (name: string, fallback: number) => Math.max(1, Math.round(positive(name, fallback)));

export const settings = {
  phases: phases(),
  durationS: seconds("BENCH_DURATION_S", 10),
  warmupS: seconds("BENCH_WARMUP_S", 2),
  connections: positive("BENCH_CONNECTIONS", 50),
  transfers: positive("BENCH_TRANSFERS", 2000),
  webhooks: positive("BENCH_WEBHOOKS", 300_000),
  latencyRate: positive("BENCH_LATENCY_RATE", 1000),
  latencyDurationS: positive("BENCH_LATENCY_DURATION_S", 10),
  latencyTransfers: positive("BENCH_LATENCY_TRANSFERS", 2000),
  wsClients: positive("BENCH_WS_CLIENTS", 4),
  dispatchMessages: positive("BENCH_DISPATCH_MESSAGES", 5000),
  dispatchConnections: positive("BENCH_DISPATCH_CONNECTIONS", 25),
};
if (settings.latencyTransfers > settings.transfers) throw new Error("BENCH_LATENCY_TRANSFERS subscribes to some of the BENCH_TRANSFERS: it cannot be larger");
export const ADMIN_DATABASE_URL = env.BENCH_ADMIN_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
export const AUTH_SECRET = `bench-auth-${randomBytes(24).toString("hex")}`;
export const GENERIC_SECRET = `bench-generic-${randomBytes(16).toString("hex")}`;
/** The bearer token Ackline sends to the fake CPaaS, which refuses any other. */
export const CPAAS_TOKEN = `bench-cpaas-${randomBytes(16).toString("hex")}`;
export const TENANT = "bench";
export const CORES = cpus().length;

const PROFILE_DIR = env.BENCH_CPU_PROF ? path.resolve(env.BENCH_CPU_PROF) : undefined;

export const log = (message: string) => console.error(`[bench] ${message}`);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ───────────────────────────── cleanup ─────────────────────────────

const cleanups: Array<{ name: string; run: () => Promise<void> | void }> = [];
export const onCleanup = (name: string, run: () => Promise<void> | void) => cleanups.push({ name, run });
let cleaning: Promise<void> | undefined;
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const { name, run } of cleanups.reverse()) {
      try {
        await run();
      } catch (error) {
        log(`cleanup "${name}" failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleaning;
}

// ───────────────────────────── servers ─────────────────────────────

export async function startServer(name: string, script: string, childEnv?: Record<string, string>): Promise<ChildServer> {
  const server = await startChildServer(new URL(script, import.meta.url), childEnv);
  onCleanup(`stop ${name}`, () => server.close());
  return server;
}

/** Runs `measure` inside a CPU profile of the server when BENCH_CPU_PROF is set. */
export async function profiled<T>(server: ChildServer, name: string, measure: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR) return measure();
  await mkdir(PROFILE_DIR, { recursive: true });
  const stop = await server.profile();
  try {
    return await measure();
  } finally {
    const file = path.join(PROFILE_DIR, `${name}.cpuprofile`);
    await stop(file);
    log(`wrote ${file}`);
    console.error(summarizeProfile(file));
  }
}

/** A fresh database, dropped by `drop()` or at cleanup, whichever comes first. */
export async function createBenchDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ackline_bench_${randomBytes(6).toString("hex")}`;
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  let dropping: Promise<void> | undefined;
  const drop = () =>
    (dropping ??= (async () => {
      const sql = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        log(`dropped database ${name}`);
      } finally {
        await sql.end();
      }
    })());
  onCleanup(`drop database ${name}`, drop);
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop };
}

/** The text of a server's `/metrics`. */
export async function metricsText(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  return response.text();
}

export type BenchDatabase = ReturnType<typeof drizzle<typeof schema>>;

/** The bench's own drizzle client to a bench database, closed at cleanup. */
export function benchClient(databaseUrl: string): BenchDatabase {
  const client = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  onCleanup("close bench database client", () => client.end({ timeout: 2 }));
  return drizzle(client, { schema });
}

/** The environment of an Ackline process on `databaseUrl`, Redis and the fake CPaaS at `cpaasUrl`, with a data dir of its own. */
export async function acklineEnv(databaseUrl: string, cpaasUrl: string): Promise<Record<string, string>> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "ackline-bench-"));
  onCleanup("remove data dir", () => rm(dataDir, { recursive: true, force: true }));
  return {
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    AUTH_JWT_SECRET: AUTH_SECRET,
    AUTH_AUDIENCE: "ackline",
    WEBHOOK_GENERIC_SECRET: GENERIC_SECRET,
    CPAAS_API_URL: cpaasUrl,
    CPAAS_TOKEN,
    ROLE: "all",
    // The latency phase shares a few graphql-ws sockets among thousands of subscriptions; the soak
    // opens thousands of sockets of one tenant per instance (the default caps each at 1,000).
    WS_MAX_SUBSCRIPTIONS_PER_SOCKET: "10000",
    WS_MAX_SOCKETS_PER_TENANT: "10000",
  };
}

/** A real Ackline in its own process on a fresh database, sending to `cpaasUrl`; `db` is the bench's own client to it. */
export async function startAckline(cpaasUrl: string): Promise<{ server: ChildServer; db: BenchDatabase }> {
  const { url: databaseUrl } = await createBenchDatabase();
  const db = benchClient(databaseUrl);
  log("starting Ackline (PostgreSQL + Redis + fake CPaaS) in its own process");
  const server = await startServer("Ackline", "./ackline-server.ts", await acklineEnv(databaseUrl, cpaasUrl));
  return { server, db };
}

// ───────────────────────────── seeding ─────────────────────────────

export interface Seeded {
  transferId: string;
  providerMessageId: string;
  phone: string;
}

/**
 * Inserts `total` transfers with one RCS message each directly with drizzle, in one transaction so
 * they appear at once: `sent` ones are already dispatched (provider id recorded), `queued` ones
 * wait for the dispatcher. Either way the provider id is `bench_<message id>`, as the fake CPaaS
 * answers.
 */
export async function seedDirectly(db: BenchDatabase, total: number, state: "sent" | "queued") {
  log(`seeding ${total} ${state} transfers directly (drizzle inserts: transfer + one RCS message)`);
  const startedAt = performance.now();
  const now = new Date();
  const expiresAt = new Date(now.getTime() + 7 * 24 * 3600 * 1000);
  const seeded: Seeded[] = [];
  const chunk = 1000;
  await db.transaction(async (tx) => {
    for (let start = 0; start < total; start += chunk) {
      const rows = Array.from({ length: Math.min(chunk, total - start) }, (_, offset) => {
        const index = start + offset;
        const transferId = newId("tx");
        const messageId = newId("msg");
        const phone = `+1416${String(index).padStart(7, "0")}`;
        seeded.push({ transferId, phone, providerMessageId: `bench_${messageId}` });
        return { transferId, messageId, phone, index };
      });
      await tx.insert(schema.transfers).values(
        rows.map(({ transferId, phone, index }) => ({
          id: transferId,
          tenantId: TENANT,
          senderName: "Bench",
          recipientPhone: phone,
          fileName: `bench-${index}.pdf`,
          fileSizeBytes: 1024,
          expiresAt,
          status: "QUEUED" as const,
          createdAt: now,
          updatedAt: now,
        })),
      );
      await tx.insert(schema.messages).values(
        rows.map(({ transferId, messageId }) => ({
          id: messageId,
          tenantId: TENANT,
          transferId,
          channel: "RCS" as const,
          provider: "cpaas",
          providerMessageId: state === "sent" ? `bench_${messageId}` : null,
          clientMessageId: messageId,
          status: "QUEUED" as const,
          dispatchState: state === "sent" ? ("done" as const) : ("pending" as const),
          nextAttemptAt: now,
          createdAt: now,
          updatedAt: now,
        })),
      );
    }
  });
  const seconds = (performance.now() - startedAt) / 1000;
  log(`seeded ${total} transfers in ${seconds.toFixed(1)} s`);
  return { seeded, seconds: Math.round(seconds * 10) / 10 };
}

/** A line of the results table: what was measured, the figure, the details. */
export type TableRow = [label: string, figure: string, details: string];
