import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema.js";

/** One drizzle type for both drivers: the services never know which one they run on. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
export type Queryable = Database | Transaction;

export interface DatabaseHandle {
  db: Database;
  kind: "postgres" | "pglite";
  /**
   * Ingest transactions in flight at once (PGlite has one connection). Two lanes on PostgreSQL
   * measured best here: more lanes mean smaller batches, and each batch costs ~8 statements.
   */
  concurrency: number;
  close(): Promise<void>;
}

const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../drizzle");
/** Any fixed key: instances starting together queue on it instead of racing through DDL. */
const MIGRATION_LOCK_KEY = 4_242_001;

/**
 * drizzle runs every statement through `unsafe(…, { prepare: false })`, and postgres.js then
 * describes each parametrized statement before running it: a second round trip per statement.
 * Ackline's statements have fixed text (array parameters, not lists), so they are prepared once
 * per connection instead, here and inside transactions.
 */
function preparingStatements(client: postgres.Sql): postgres.Sql {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === "unsafe") {
        return (query: string, parameters?: unknown[], options?: object) =>
          target.unsafe(query, parameters as postgres.ParameterOrJSON<never>[], { ...options, prepare: true });
      }
      if (property === "begin") {
        return (callback: (transaction: postgres.Sql) => unknown) =>
          target.begin((transaction) => callback(preparingStatements(transaction as unknown as postgres.Sql)));
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}

export interface OpenDatabaseOptions {
  url?: string;
  dataDir: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  /** False for a second client of a database another part of this process has already migrated. */
  migrate?: boolean;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    const poolSize = options.poolSize ?? 10;
    const client = postgres(options.url, {
      max: poolSize,
      onnotice: () => {},
      // postgres.js waits 30 s by default; an unreachable server should be reported sooner.
      connect_timeout: (options.connectTimeoutMs ?? 2000) / 1000,
      // A generic plan cannot see how many ids an array parameter holds and may scan a whole table.
      connection: { plan_cache_mode: "force_custom_plan" },
    });
    const db = drizzlePostgres(preparingStatements(client), { schema }) as unknown as Database;
    const close = () => client.end({ timeout: 5 });
    if (options.migrate === false) return { db, kind: "postgres", concurrency: 2, close };
    const lockConnection = await client.reserve();
    try {
      await lockConnection`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
      await migratePostgres(drizzlePostgres(client), { migrationsFolder });
    } finally {
      await lockConnection`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
      lockConnection.release();
    }
    return { db, kind: "postgres", concurrency: 2, close };
  }
  const pglite = new PGlite(path.join(options.dataDir, "pglite"));
  const db = drizzlePglite(pglite, { schema }) as unknown as Database;
  await migratePglite(drizzlePglite(pglite), { migrationsFolder });
  return { db, kind: "pglite", concurrency: 1, close: () => pglite.close() };
}

export async function pingDatabase(db: Database): Promise<void> {
  await db.execute(sql`SELECT 1`);
}
