import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { countPostgresWire, type WireCounts } from "../helpers/postgres-wire.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { hasPostgres } from "../helpers/services.js";
import { startFreezableProxy, type FreezableProxy } from "../helpers/tcp-proxy.js";
import { createTransfer } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";

const PLAIN = 80;
const RATE_LIMITED = "+14165550429";
const REFUSED = "+14165550400";
const SUPPRESSED = "+14165550666";

/**
 * A burst of queued messages reaches the dispatcher at once (as in the bench): it claims, sends
 * and records them many per statement, and every kind of decision in one batch lands as it did one
 * message at a time. The worker talks to PostgreSQL through a proxy that counts the wire messages.
 */
describe.runIf(hasPostgres() || process.env.CI === "true")("dispatch bookkeeping in batches", () => {
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let api: TestServer;
  let worker: TestServer;
  let proxy: FreezableProxy;
  let sql: postgres.Sql;
  const wire = countPostgresWire();
  let burst: WireCounts;
  const ids = new Map<string, string>();

  beforeAll(async () => {
    cpaas = await startFakeCpaas((body) => {
      if (body.to === RATE_LIMITED) return { status: 429, headers: { "retry-after": "60" }, body: { error: "slow down" } };
      if (body.to === REFUSED) return { status: 400, body: { error: "bad recipient" } };
      return undefined;
    });
    api = await startTestServer({ env: { ROLE: "api", CPAAS_API_URL: cpaas.url } });
    sql = postgres(api.databaseUrl!, { max: 1, onnotice: () => {} });
    const token = await tokenFor(uniqueTenant("batch"));
    const phones = [RATE_LIMITED, REFUSED, SUPPRESSED, ...Array.from({ length: PLAIN }, (_, i) => `+1416556${String(1000 + i)}`)];
    for (let i = 0; i < phones.length; i += 10) {
      const created = await Promise.all(phones.slice(i, i + 10).map((phone) => createTransfer(api, token, phone)));
      created.forEach((transfer, index) => ids.set(phones[i + index]!, transfer.messages[0]!.id));
    }
    // Held back until the worker is up and idle, then released together.
    await sql`UPDATE messages SET next_attempt_at = now() + interval '1 hour'`;
    await sql`INSERT INTO suppressions (tenant_id, kind, address, reason, created_by) SELECT tenant_id, 'phone', ${SUPPRESSED}, 'OPT_OUT', 'test' FROM messages WHERE id = ${ids.get(SUPPRESSED)!}`;

    const direct = new URL(api.databaseUrl!);
    proxy = await startFreezableProxy({ host: direct.hostname, port: Number(direct.port || 5432) }, { observeClient: wire.observeClient });
    const throughProxy = new URL(direct);
    throughProxy.port = String(proxy.port);
    worker = await startTestServer({ databaseUrl: throughProxy.toString(), env: { ROLE: "worker", CPAAS_API_URL: cpaas.url } });

    wire.reset();
    await sql`UPDATE messages SET next_attempt_at = now() WHERE channel = 'RCS'`;
    await eventually(async () => {
      const [row] = await sql<Array<{ waiting: number }>>`SELECT count(*)::int AS waiting FROM messages WHERE channel = 'RCS' AND dispatch_state = 'sending'`;
      const [attempts] = await sql<Array<{ recorded: number }>>`SELECT count(*)::int AS recorded FROM delivery_attempts`;
      return row!.waiting === 0 && attempts!.recorded >= phones.length ? true : undefined;
    }, "every message of the burst to be recorded");
    burst = { ...wire.counts };
    console.log("burst wire counts", burst);
  }, 120_000);
  afterAll(async () => {
    await worker?.close();
    await proxy?.close();
    await sql?.end();
    await api?.close();
    await cpaas?.close();
  });

  it("spends about one statement per message, polling included, where it took about ten one by one", async () => {
    const total = PLAIN + 3;
    const [row] = await sql<Array<{ accepted: number }>>`
      SELECT count(*)::int AS accepted FROM messages m JOIN delivery_attempts a ON a.message_id = m.id
      WHERE a.outcome = 'ACCEPTED' AND m.dispatch_state = 'done' AND m.provider_message_id IS NOT NULL`;
    expect(row!.accepted).toBe(PLAIN);
    // Claims, transfers, suppressions, attempts and outcomes together, with the worker's own polling besides.
    expect(burst.statements / total).toBeLessThan(2);
  });

  it("records each kind of decision of one burst as it would alone: accepted, retried after Retry-After, refused, suppressed", async () => {
    const rows = await sql<Array<{ id: string; status: string; dispatch_state: string; attempts: number; last_error: string | null; next_attempt_at: Date; provider_message_id: string | null }>>`
      SELECT id, status, dispatch_state, attempts, last_error, next_attempt_at, provider_message_id FROM messages WHERE id = ANY(${[...ids.values()]})`;
    const message = (phone: string) => rows.find((row) => row.id === ids.get(phone))!;
    const attemptsOf = (phone: string) =>
      sql<Array<{ attempt: number; outcome: string; code: number | null; error: string | null; at: Date; retry_at: Date | null }>>`
        SELECT attempt, outcome, code, error, at, retry_at FROM delivery_attempts WHERE message_id = ${ids.get(phone)!} ORDER BY attempt`;
    const eventsOf = (phone: string) => sql<Array<{ event: string; dedupe_key: string }>>`SELECT event, dedupe_key FROM receipt_events WHERE message_id = ${ids.get(phone)!}`;

    const plain = message("+14165561000");
    const send = cpaas.sends.find((candidate) => candidate.body.to === "+14165561000")!;
    expect(plain).toMatchObject({ status: "QUEUED", dispatch_state: "done", attempts: 1, last_error: null, provider_message_id: send.providerMessageId });
    expect(await attemptsOf("+14165561000")).toEqual([expect.objectContaining({ attempt: 1, outcome: "ACCEPTED", code: 202, error: null, retry_at: null })]);

    const limited = message(RATE_LIMITED);
    const [retry] = await attemptsOf(RATE_LIMITED);
    expect(limited).toMatchObject({ status: "QUEUED", dispatch_state: "pending", attempts: 1, provider_message_id: null });
    expect(limited.last_error).toMatch(/429/);
    expect(retry).toMatchObject({ attempt: 1, outcome: "RETRY", code: 429 });
    expect(retry!.retry_at!.getTime()).toBe(limited.next_attempt_at.getTime());
    expect(retry!.retry_at!.getTime() - retry!.at.getTime()).toBeGreaterThanOrEqual(60_000);

    const refused = message(REFUSED);
    expect(refused).toMatchObject({ status: "FAILED", dispatch_state: "done", attempts: 1 });
    expect(refused.last_error).toMatch(/400/);
    expect(await attemptsOf(REFUSED)).toEqual([expect.objectContaining({ attempt: 1, outcome: "FAILED", code: 400 })]);
    expect((await eventsOf(REFUSED)).map((event) => event.event)).toContain("FAILED");

    const suppressed = message(SUPPRESSED);
    expect(suppressed).toMatchObject({ status: "SUPPRESSED", dispatch_state: "done", attempts: 1 });
    expect(suppressed.last_error).toMatch(/is suppressed for this tenant \(opt-out since /);
    expect(await attemptsOf(SUPPRESSED)).toEqual([expect.objectContaining({ attempt: 1, outcome: "SUPPRESSED" })]);
    expect(await eventsOf(SUPPRESSED)).toContainEqual({ event: "OPT_OUT", dedupe_key: `ackline:${ids.get(SUPPRESSED)}:suppressed` });
    expect(cpaas.sends.filter((candidate) => candidate.body.to === SUPPRESSED)).toHaveLength(0);
  });
});
