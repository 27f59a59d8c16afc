import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedLarge } from "../../scripts/seed-large.js";
import { createTestDatabase } from "../helpers/services.js";

/** `npm run seed:large` at a small scale (SEED_TRANSFERS): the same statements, checked row by row. */
describe("seed:large at 200 transfers", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: postgres.Sql;

  beforeAll(async () => {
    database = await createTestDatabase();
    if (!database) throw new Error("seed:large needs PostgreSQL");
    await seedLarge(database.url, 200, () => {});
    // Seeding again replaces the tenant's rows rather than adding to them.
    await seedLarge(database.url, 200, () => {});
    sql = postgres(database.url, { max: 1, onnotice: () => {} });
  }, 60_000);
  afterAll(async () => {
    await sql?.end();
    await database?.drop();
  });

  it("four events per transfer, in the outcome mix the slots promise", async () => {
    const [counts] = await sql`SELECT (SELECT count(*)::int FROM transfers WHERE tenant_id = 'large') AS transfers,
      (SELECT count(*)::int FROM messages WHERE tenant_id = 'large') AS messages,
      (SELECT count(*)::int FROM message_stats WHERE tenant_id = 'large') AS stats,
      (SELECT count(*)::int FROM receipt_events WHERE tenant_id = 'large') AS events`;
    expect(counts).toEqual({ transfers: 200, messages: 220, stats: 220, events: 800 });
    const byEvent = await sql`SELECT event, count(*)::int AS n FROM receipt_events WHERE tenant_id = 'large' GROUP BY 1 ORDER BY 1`;
    expect(Object.fromEntries(byEvent.map((row) => [row.event, row.n]))).toEqual({ DELIVERED: 180, DOWNLOADED: 40, FAILED: 30, QUEUED: 220, READ: 110, SENT: 220 });
    const [span] = await sql`SELECT extract(epoch FROM max(created_at) - min(created_at)) / 86400 AS days FROM transfers WHERE tenant_id = 'large'`;
    expect(Number(span!.days)).toBeGreaterThan(85);
    expect(Number(span!.days)).toBeLessThanOrEqual(90);
  });

  it("carriers and regions: each carrier in one region, phone channels only, the messages agreeing with their receipts", async () => {
    const pairs = await sql<Array<{ carrier: string; region: string }>>`SELECT DISTINCT carrier, region FROM receipt_events WHERE tenant_id = 'large' AND carrier IS NOT NULL`;
    const regionOf = new Map<string, Set<string>>();
    for (const { carrier, region } of pairs) regionOf.set(carrier, (regionOf.get(carrier) ?? new Set()).add(region));
    expect([...regionOf.values()].every((regions) => regions.size === 1)).toBe(true);
    expect(regionOf.size).toBeLessThanOrEqual(20);
    expect(new Set(pairs.map((pair) => pair.region)).size).toBe(5);
    const [email] = await sql`SELECT count(*)::int AS n FROM receipt_events WHERE tenant_id = 'large' AND channel = 'EMAIL' AND carrier IS NOT NULL`;
    expect(email!.n).toBe(0);
    // Each message's facts are its receipts': first carrier, first DELIVERED.
    const [disagreeing] = await sql`SELECT count(*)::int AS n FROM messages m
      WHERE m.tenant_id = 'large' AND (m.carrier IS DISTINCT FROM (SELECT e.carrier FROM receipt_events e WHERE e.message_id = m.id AND e.carrier IS NOT NULL ORDER BY e.occurred_at LIMIT 1)
        OR m.delivered_at IS DISTINCT FROM (SELECT min(e.occurred_at) FROM receipt_events e WHERE e.message_id = m.id AND e.event = 'DELIVERED'))`;
    expect(disagreeing!.n).toBe(0);
  });
});
