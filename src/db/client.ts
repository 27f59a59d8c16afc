import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
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
export const MIGRATION_LOCK_KEY = 4_242_001;

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

/**
 * Migrations run on their own short-lived connections, without `statement_timeout`: DDL on a big
 * table, and waiting for another instance's migration lock, may take as long as they take.
 */
async function migrateUnderLock(url: string, settings: postgres.Options<Record<string, never>>): Promise<void> {
  const client = postgres(url, { ...settings, max: 2 });
  try {
    const lockConnection = await client.reserve();
    try {
      await lockConnection`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
      await migratePostgres(drizzlePostgres(client), { migrationsFolder });
    } finally {
      await lockConnection`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
      lockConnection.release();
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}

export interface OpenDatabaseOptions {
  url?: string;
  dataDir: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  /** The server cancels a statement running longer (0: never), so work abandoned at a caller's deadline does not run on. */
  statementTimeoutMs?: number;
  /** False for a second client of a database another part of this process has already migrated. */
  migrate?: boolean;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) {
    const settings = {
      onnotice: () => {},
      // postgres.js waits 30 s by default; an unreachable server should be reported sooner.
      connect_timeout: (options.connectTimeoutMs ?? 2000) / 1000,
    };
    if (options.migrate !== false) await migrateUnderLock(options.url, settings);
    const client = postgres(options.url, {
      ...settings,
      max: options.poolSize ?? 10,
      connection: {
        // A generic plan cannot see how many ids an array parameter holds and may scan a whole table.
        plan_cache_mode: "force_custom_plan",
        ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      },
    });
    const db = drizzlePostgres(preparingStatements(client), { schema }) as unknown as Database;
    return { db, kind: "postgres", concurrency: 2, close: () => client.end({ timeout: 5 }) };
  }
  const pglite = new PGlite(path.join(options.dataDir, "pglite"));
  const db = drizzlePglite(pglite, { schema }) as unknown as Database;
  await migratePglite(drizzlePglite(pglite), { migrationsFolder });
  return { db, kind: "pglite", concurrency: 1, close: () => pglite.close() };
}

