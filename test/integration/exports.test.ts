import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { uniqueTenant } from "../helpers/wait.js";

const DAY = "2026-04-01";

describe("GET /exports/receipt-events: the tenant's events as NDJSON or CSV, streamed", () => {
  let server: TestServer;
  let sql: postgres.Sql;
  let tenant: string;
  let other: string;
  let token: string;

  const insert = (tenantId: string, key: string, occurredAt: string, fields: { carrier?: string; region?: string; metadata?: Record<string, unknown> } = {}) =>
    sql`INSERT INTO receipt_events (tenant_id, transfer_id, message_id, channel, event, occurred_at, received_at, provider, source, carrier, region, metadata, raw, dedupe_key)
      VALUES (${tenantId}, 'tr_x', 'msg_x', 'SMS', 'DELIVERED', ${new Date(occurredAt)}, ${new Date(occurredAt)}, 'twilio', 'twilio', ${fields.carrier ?? null},
        ${fields.region ?? null}, ${sql.json((fields.metadata ?? {}) as never)}, '{}'::jsonb, ${`${tenantId}:${key}`})`;
  const exportOf = (query: string, as: string | null = token) =>
    fetch(`${server.url}/exports/receipt-events?${query}`, { headers: as === null ? {} : { authorization: `Bearer ${as}` } });
  const ndjson = async (query: string, as: string = token) => {
    const response = await exportOf(`format=ndjson&${query}`, as);
    expect(response.status).toBe(200);
    return (await response.text()).split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  };

  beforeAll(async () => {
    server = await startTestServer();
    sql = postgres(server.databaseUrl!, { max: 2, onnotice: () => {} });
    tenant = uniqueTenant("export");
    other = uniqueTenant("export-other");
    token = await tokenFor(tenant);
    await insert(tenant, "a", `${DAY}T10:00:00.000Z`, { carrier: "310260", region: "US", metadata: { note: 'says "hi", twice' } });
    await insert(tenant, "b", `${DAY}T11:00:00.000Z`, { carrier: "=HYPERLINK(1)" });
    await insert(tenant, "c", `${DAY}T12:00:00.000Z`);
    await insert(other, "z", `${DAY}T10:30:00.000Z`);
  });
  afterAll(async () => {
    await sql?.end();
    await server?.close();
  });

  it("NDJSON: one object per event, provider-time order, the tenant's only", async () => {
    const rows = await ndjson("");
    expect(rows.map((row) => row.occurred_at)).toEqual([`${DAY}T10:00:00.000Z`, `${DAY}T11:00:00.000Z`, `${DAY}T12:00:00.000Z`]);
    expect(rows[0]).toMatchObject({
      transfer_id: "tr_x", message_id: "msg_x", channel: "SMS", event: "DELIVERED", provider: "twilio", source: "twilio",
      carrier: "310260", region: "US", metadata: { note: 'says "hi", twice' },
    });
    expect(Object.keys(rows[0]!)).toEqual(["id", "transfer_id", "message_id", "channel", "event", "occurred_at", "received_at", "provider", "source", "carrier", "region", "metadata"]);
    const theirs = await ndjson("", await tokenFor(other));
    expect(theirs.map((row) => row.occurred_at)).toEqual([`${DAY}T10:30:00.000Z`]);
  });

  it("from (inclusive) and to (exclusive) bound the provider time", async () => {
    const rows = await ndjson(`from=${DAY}T11:00:00Z&to=${DAY}T12:00:00Z`);
    expect(rows.map((row) => row.occurred_at)).toEqual([`${DAY}T11:00:00.000Z`]);
  });

  it("CSV: a header, quoted cells, formulas defused, the right headers", async () => {
    const response = await exportOf("format=csv");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toBe('attachment; filename="receipt-events.csv"');
    const lines = (await response.text()).split("\r\n");
    expect(lines[0]).toBe("id,transfer_id,message_id,channel,event,occurred_at,received_at,provider,source,carrier,region,metadata");
    expect(lines[1]).toMatch(new RegExp(`^\\d+,tr_x,msg_x,SMS,DELIVERED,${DAY}T10:00:00.000Z,${DAY}T10:00:00.000Z,twilio,twilio,310260,US,"{""note"":""says \\\\""hi\\\\"", twice""}"$`));
    expect(lines[2]).toContain(",'=HYPERLINK(1),,{}");
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe("");
  });

  it("streams past its batches: thousands of events with equal times, each once", async () => {
    const many = uniqueTenant("export-many");
    await sql`INSERT INTO receipt_events (tenant_id, event, occurred_at, provider, source, raw, dedupe_key)
      SELECT ${many}, 'SENT', ${new Date(`${DAY}T00:00:00Z`)}::timestamptz + (i / 7) * interval '1 second', 'generic', 'generic', '{}'::jsonb, ${many} || ':' || i
      FROM generate_series(1, 2600) AS i`;
    const rows = await ndjson("", await tokenFor(many));
    expect(rows).toHaveLength(2600);
    expect(new Set(rows.map((row) => row.id)).size).toBe(2600);
  });

  it("refuses: no token 401, a bad token 401, without receipts:read 403", async () => {
    expect((await exportOf("format=ndjson", null)).status).toBe(401);
    expect((await exportOf("format=ndjson", "not-a-jwt")).status).toBe(401);
    const writer = await tokenFor(tenant, { scopes: ["transfers:read", "transfers:write"] });
    const forbidden = await exportOf("format=ndjson", writer);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({ error: "the access token lacks scope receipts:read", code: "FORBIDDEN" });
  });

  it.each([
    ["no format", "", "format must be ndjson or csv"],
    ["an unknown format", "format=xml", "format must be ndjson or csv"],
    ["a from that is no date", "format=csv&from=yesterday", "from must be an ISO 8601 date-time"],
    ["a to that is no date", "format=csv&to=2026-13-01T00:00:00Z", "to must be an ISO 8601 date-time"],
    ["from not before to", `format=csv&from=${DAY}T12:00:00Z&to=${DAY}T12:00:00Z`, "from must be before to"],
  ])("400 for %s", async (_label, query, message) => {
    const response = await exportOf(query);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: message, code: "BAD_USER_INPUT" });
  });
});
