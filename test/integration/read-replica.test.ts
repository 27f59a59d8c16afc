import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_DATABASE_URL, createTestDatabase, hasPostgres } from "../helpers/services.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { createTransfer, getTransfer, history } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";

/**
 * No streaming replica here: `DATABASE_READ_URL` is a second URL to the same database, told apart
 * by its application_name, and read-only (`default_transaction_read_only`), so a write sent
 * through it would fail.
 */
describe.runIf(hasPostgres() || process.env.CI === "true")("DATABASE_READ_URL", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestServer;
  let admin: postgres.Sql;
  const replicaName = `ackline_replica_${Math.random().toString(36).slice(2, 10)}`;

  beforeAll(async () => {
    database = await createTestDatabase();
    const replicaUrl = new URL(database!.url);
    replicaUrl.searchParams.set("application_name", replicaName);
    replicaUrl.searchParams.set("default_transaction_read_only", "on");
    server = await startTestServer({ databaseUrl: database!.url, env: { DATABASE_READ_URL: replicaUrl.toString() } });
    admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await server?.close();
    await admin?.end();
    await database?.drop();
  });

  const replicaSessions = () =>
    admin<Array<{ datname: string; query: string }>>`SELECT datname, query FROM pg_stat_activity WHERE application_name = ${replicaName}`;

  it("the receipt history is read through the replica's connections; writes and the transfer itself go to the primary", async () => {
    const token = await tokenFor(uniqueTenant("replica"));
    const transfer = await createTransfer(server, token, "+14165556001");
    expect(await getTransfer(server, token, transfer.id)).toMatchObject({ id: transfer.id });
    // Nothing has read history yet: the replica's pool has not connected.
    expect(await replicaSessions()).toEqual([]);

    const events = await eventually(async () => {
      const page = await history(server, token, transfer.id);
      return page.length > 0 ? page : undefined;
    }, "the transfer's first events in its history");
    expect(events.every((event) => event.transferId === transfer.id)).toBe(true);

    const sessions = await replicaSessions();
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.every((session) => session.datname === new URL(database!.url).pathname.slice(1))).toBe(true);
    expect(sessions.every((session) => session.query.includes("receipt_events"))).toBe(true);
    // Writes still work: they never go through the read-only replica URL.
    expect(await createTransfer(server, token, "+14165556002")).toMatchObject({ status: "QUEUED" });
  });
});
