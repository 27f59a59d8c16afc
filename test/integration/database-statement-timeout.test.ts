import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { RevokeTransferDocument } from "../generated/graphql.js";
import { errorCodes, graphql } from "../helpers/graphql.js";
import { MIGRATION_LOCK_KEY } from "../../src/db/client.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { createTestDatabase, hasPostgres } from "../helpers/services.js";
import { createTransfer, lockTransfers } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";

/** Far short of the request deadline below: an answer by then came from the server's statement_timeout. */
const HELD = 10_000;

describe.runIf(hasPostgres())("DATABASE_STATEMENT_TIMEOUT_MS", () => {
  it("the server cancels a statement that runs past it: the operation is SERVICE_UNAVAILABLE and nothing is left waiting", async () => {
    const server = await startTestServer({ env: { DATABASE_STATEMENT_TIMEOUT_MS: "300", DATABASE_REQUEST_TIMEOUT_MS: "60000" } });
    const sql = postgres(server.databaseUrl!, { max: 1, onnotice: () => {} });
    try {
      const token = await tokenFor(uniqueTenant("statement"));
      const transfer = await createTransfer(server, token, "+14165553021");
      // Revoking locks the transfer's row, which another session holds: the statement waits on it.
      const release = await lockTransfers(server.databaseUrl!, [transfer.id]);
      try {
        const revoked = await graphql(server.url, RevokeTransferDocument, { id: transfer.id }, token, { signal: AbortSignal.timeout(HELD) });
        expect(errorCodes(revoked.body)).toEqual(["SERVICE_UNAVAILABLE"]);
        // Still under the lock, no statement of the server's has been waiting for longer than the timeout allows.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const [activity] = await sql<Array<{ waiting: number }>>`
          SELECT count(*)::int AS waiting FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND now() - query_start > interval '1 second'`;
        expect(activity?.waiting).toBe(0);
      } finally {
        await release();
      }
    } finally {
      await sql.end();
      await server.close();
    }
  }, 60_000);

  it("does not apply to migrations: an instance waits out another's migration lock for longer than the timeout", async () => {
    const database = (await createTestDatabase())!;
    const other = postgres(database.url, { max: 1, onnotice: () => {} });
    let server: TestServer | undefined;
    try {
      const lock = await other.reserve();
      await lock`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
      const starting = startTestServer({ databaseUrl: database.url, env: { DATABASE_STATEMENT_TIMEOUT_MS: "300" } });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await lock`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
      lock.release();
      const started = await starting;
      server = started;
      const [migrated] = await other<Array<{ tables: number }>>`
        SELECT count(*)::int AS tables FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('transfers', 'messages', 'receipt_events')`;
      expect(migrated?.tables).toBe(3);
      // Serving (the pubsub may still be connecting right after the start).
      await eventually(async () => ((await fetch(`${started.url}/readyz`)).status === 200 ? true : undefined), "the instance to be ready", 20_000, 100);
    } finally {
      await server?.close();
      await other.end();
      await database.drop();
    }
  }, 60_000);
});
