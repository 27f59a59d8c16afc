import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { postgresReachable, redisReachable } from "./services.js";

/** The web app and the explorer are served from their build (not committed): a clean checkout builds them once. */
function buildWebAppIfMissing(): void {
  if (existsSync("web/dist/index.html") && existsSync("web/dist/graphiql.html")) return;
  console.log("building the web app (web/dist is missing)…");
  execFileSync("npm", ["run", "build:web"], { stdio: "inherit" });
}

/**
 * Under CI a missing service fails the run; elsewhere the suite falls back to embedded PGlite and
 * in-process pubsub, and says loudly what it could not cover.
 */
export default async function setup(): Promise<void> {
  buildWebAppIfMissing();
  const [postgres, redis] = await Promise.all([postgresReachable(), redisReachable()]);
  if (process.env.CI === "true" && (!postgres || !redis)) {
    throw new Error(`CI needs real services: PostgreSQL ${postgres ? "ok" : "MISSING"}, Redis ${redis ? "ok" : "MISSING"}`);
  }
  process.env.ACKLINE_TEST_POSTGRES = postgres ? "1" : "0";
  process.env.ACKLINE_TEST_REDIS = redis ? "1" : "0";
  if (!postgres || !redis) {
    const banner = "!".repeat(78);
    console.warn(
      `\n${banner}\n  SERVICES MISSING: PostgreSQL ${postgres ? "ok" : "MISSING -> embedded PGlite"}, ` +
        `Redis ${redis ? "ok" : "MISSING -> cross-instance tests SKIPPED"}\n${banner}\n`,
    );
  }
}
