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
  /** Transactions the driver can usefully run at once (PGlite has one connection). */
  concurrency: number;
  close(): Promise<void>;
}

const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../drizzle");
/** Any fixed key: instances starting together queue on it instead of racing through DDL. */
const MIGRATION_LOCK_KEY = 4_242_001;

export async function openDatabase(options: { url?: string; dataDir: string; poolSize?: number }): Promise<DatabaseHandle> {
  if (options.url) {
    const poolSize = options.poolSize ?? 10;
    const client = postgres(options.url, { max: poolSize, onnotice: () => {} });
    const db = drizzlePostgres(client, { schema }) as unknown as Database;
    const lockConnection = await client.reserve();
    try {
      await lockConnection`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
      await migratePostgres(drizzlePostgres(client), { migrationsFolder });
    } finally {
      await lockConnection`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
      lockConnection.release();
    }
    return { db, kind: "postgres", concurrency: Math.max(1, Math.floor(poolSize / 2)), close: () => client.end({ timeout: 5 }) };
  }
  const pglite = new PGlite(path.join(options.dataDir, "pglite"));
  const db = drizzlePglite(pglite, { schema }) as unknown as Database;
  await migratePglite(drizzlePglite(pglite), { migrationsFolder });
  return { db, kind: "pglite", concurrency: 1, close: () => pglite.close() };
}

export async function pingDatabase(db: Database): Promise<void> {
  await db.execute(sql`SELECT 1`);
}
