import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import postgres from "postgres";

/** The real services the suite runs against (PostgreSQL with trust auth, Redis), overridable. */
export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export async function postgresReachable(): Promise<boolean> {
  const sql = postgres(ADMIN_DATABASE_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export async function redisReachable(): Promise<boolean> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Set by the global setup: "1" when the real service is there, "0" when the suite falls back. */
export const hasPostgres = () => process.env.ACKLINE_TEST_POSTGRES === "1";
export const hasRedis = () => process.env.ACKLINE_TEST_REDIS === "1";

/** A fresh database per test file, dropped afterwards; undefined means "use embedded PGlite". */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  if (!hasPostgres()) return undefined;
  const name = `ackline_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const cleanup = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}
