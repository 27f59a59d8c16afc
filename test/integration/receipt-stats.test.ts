import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCodes, postGraphQL } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { type FixtureTransfer, insertStatsFixture } from "../helpers/stats-fixture.js";
import { uniqueTenant } from "../helpers/wait.js";

const D1 = "2026-03-01";
const D2 = "2026-03-02";

/*
 * Hand-computed: 5 transfers, 7 messages. Times to deliver 2, 5, 10, 20, 30 s; to read 40, 60,
 * 200 s; to download 120, 300, 1000 s. Nearest rank of p over n values: the ceil(p·n)-th.
 */
const FIXTURE: FixtureTransfer[] = [
  {
    id: "tr_s1", createdAt: `${D1}T10:00:00Z`, downloaded: 120,
    messages: [
      { id: "msg_s1", channel: "RCS", provider: "vonage", carrier: "CarrierA", region: "EU", opens: true, sent: 1, delivered: 10, read: 60 },
      { id: "msg_s2", channel: "SMS", provider: "twilio", carrier: "CarrierA", region: "EU", fallbackOf: "msg_s1", sent: 25, delivered: 30 },
    ],
  },
  {
    id: "tr_s2", createdAt: `${D1}T12:00:00Z`, downloaded: 300,
    messages: [
      { id: "msg_s3", channel: "RCS", provider: "vonage", carrier: "CarrierB", region: "US", opens: true, sent: 1, failed: 5 },
      { id: "msg_s4", channel: "SMS", provider: "twilio", carrier: "CarrierB", region: "US", fallbackOf: "msg_s3", sent: 6, delivered: 20, read: 200 },
    ],
  },
  { id: "tr_s3", createdAt: `${D2}T09:00:00Z`, messages: [{ id: "msg_s5", channel: "SMS", provider: "twilio", carrier: "CarrierA", region: "EU", opens: true, sent: 1, delivered: 5, read: 40 }] },
  { id: "tr_s4", createdAt: `${D2}T10:00:00Z`, downloaded: 1000, messages: [{ id: "msg_s6", channel: "EMAIL", provider: "ses", opens: true, sent: 1, delivered: 2 }] },
  { id: "tr_s5", createdAt: `${D2}T11:00:00Z`, messages: [{ id: "msg_s7", channel: "RCS", provider: "vonage", carrier: "CarrierB", region: "US", opens: true }] },
];

/** Another tenant's traffic on the same days, carriers and channels: never counted above. */
const OTHER_TENANT: FixtureTransfer[] = [
  { id: "tr_o1", createdAt: `${D1}T10:30:00Z`, downloaded: 7, messages: [{ id: "msg_o1", channel: "RCS", provider: "vonage", carrier: "CarrierA", region: "EU", opens: true, sent: 1, delivered: 3, read: 4 }] },
];

const ROW = `key { channel provider carrier region day }
  transfers messages sent delivered read failed fallbacks downloads deliveryRate readRate downloadRate
  timeToDeliver { p50 p90 p99 } timeToRead { p50 p90 p99 } timeToDownload { p50 p90 p99 }`;
const STATS = `query Stats($groupBy: [StatsDimension!]!, $filter: ReceiptStatsFilter) { receiptStats(groupBy: $groupBy, filter: $filter) { ${ROW} } }`;

interface Row {
  key: Record<string, string | null>;
  [field: string]: unknown;
}

describe("receiptStats: counts, rates and nearest-rank percentiles against a hand-computed fixture", () => {
  let server: TestServer;
  let token: string;

  const stats = async (groupBy: string[], filter?: Record<string, unknown>, as = token) => {
    const result = await postGraphQL(server.url, { query: STATS, variables: { groupBy, filter } }, as);
    return result.body as { data?: { receiptStats: Row[] }; errors?: unknown[] };
  };
  const rows = async (groupBy: string[], filter?: Record<string, unknown>) => {
    const result = await stats(groupBy, filter);
    expect(result.errors).toBeUndefined();
    return result.data!.receiptStats;
  };
  const percentiles = (p50: number | null, p90: number | null, p99: number | null) => ({ p50, p90, p99 });
  const none = percentiles(null, null, null);

  beforeAll(async () => {
    server = await startTestServer();
    const tenant = uniqueTenant("stats");
    token = await tokenFor(tenant);
    await insertStatsFixture(server.databaseUrl!, tenant, FIXTURE);
    await insertStatsFixture(server.databaseUrl!, uniqueTenant("stats-other"), OTHER_TENANT);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("totals without grouping: every count, rate and percentile", async () => {
    expect(await rows([])).toEqual([
      {
        key: { channel: null, provider: null, carrier: null, region: null, day: null },
        transfers: 5, messages: 7, sent: 6, delivered: 5, read: 3, failed: 1, fallbacks: 2, downloads: 3,
        deliveryRate: 5 / 6, readRate: 0.5, downloadRate: 0.5,
        timeToDeliver: percentiles(10, 30, 30), timeToRead: percentiles(60, 200, 200), timeToDownload: percentiles(300, 1000, 1000),
      },
    ]);
  });

  it("by CHANNEL: a transfer and its download count in its first message's row", async () => {
    const byChannel = await rows(["CHANNEL"]);
    expect(byChannel.map((row) => row.key.channel)).toEqual(["EMAIL", "RCS", "SMS"]);
    const [email, rcs, sms] = byChannel;
    expect(rcs).toMatchObject({
      transfers: 3, messages: 3, sent: 2, delivered: 1, read: 1, failed: 1, fallbacks: 0, downloads: 2,
      deliveryRate: 0.5, readRate: 0.5, downloadRate: 1,
      timeToDeliver: percentiles(10, 10, 10), timeToRead: percentiles(60, 60, 60), timeToDownload: percentiles(120, 300, 300),
    });
    expect(sms).toMatchObject({
      transfers: 1, messages: 3, sent: 3, delivered: 3, read: 2, failed: 0, fallbacks: 2, downloads: 0, downloadRate: 0,
      timeToDeliver: percentiles(20, 30, 30), timeToRead: percentiles(40, 200, 200), timeToDownload: none,
    });
    expect(email).toMatchObject({ transfers: 1, messages: 1, sent: 1, delivered: 1, read: 0, readRate: 0, downloads: 1, timeToRead: none, timeToDownload: percentiles(1000, 1000, 1000) });
  });

  it("by DAY, PROVIDER, CARRIER and REGION, each key set alone", async () => {
    const byDay = await rows(["DAY"]);
    expect(byDay.map((row) => [row.key.day, row.transfers, row.messages, row.sent, row.delivered, row.read, row.failed, row.downloads])).toEqual([
      [D1, 2, 4, 4, 3, 2, 1, 2],
      [D2, 3, 3, 2, 2, 1, 0, 1],
    ]);
    expect(byDay[0]!.key).toEqual({ channel: null, provider: null, carrier: null, region: null, day: D1 });
    const byProvider = await rows(["PROVIDER"]);
    expect(byProvider.map((row) => [row.key.provider, row.messages])).toEqual([["ses", 1], ["twilio", 3], ["vonage", 3]]);
    const byCarrier = await rows(["CARRIER"]);
    expect(byCarrier.map((row) => [row.key.carrier, row.transfers, row.messages, row.sent, row.delivered, row.read, row.failed])).toEqual([
      ["CarrierA", 2, 3, 3, 3, 2, 0],
      ["CarrierB", 2, 3, 2, 1, 1, 1],
      [null, 1, 1, 1, 1, 0, 0],
    ]);
    expect(byCarrier[0]!.timeToDeliver).toEqual(percentiles(10, 30, 30));
    const byRegion = await rows(["REGION"]);
    expect(byRegion.map((row) => [row.key.region, row.key.carrier, row.messages])).toEqual([["EU", null, 3], ["US", null, 3], [null, null, 1]]);
  });

  it("by several dimensions at once, in the enum's order whatever the order asked", async () => {
    const grouped = await rows(["DAY", "CHANNEL"]);
    expect(grouped.map((row) => [row.key.channel, row.key.day, row.messages, row.delivered])).toEqual([
      ["EMAIL", D2, 1, 1],
      ["RCS", D1, 2, 1],
      ["RCS", D2, 1, 0],
      ["SMS", D1, 2, 2],
      ["SMS", D2, 1, 1],
    ]);
  });

  it("filters: channel, provider, carrier, region, and [from, to) on the transfer's creation", async () => {
    const counts = async (filter: Record<string, unknown>) => (await rows([], filter)).map((row) => [row.transfers, row.messages, row.delivered]);
    expect(await counts({ channel: "SMS" })).toEqual([[1, 3, 3]]);
    expect(await counts({ provider: "vonage" })).toEqual([[3, 3, 1]]);
    expect(await counts({ carrier: "CarrierB" })).toEqual([[2, 3, 1]]);
    expect(await counts({ region: "EU", channel: "RCS" })).toEqual([[1, 1, 1]]);
    expect(await counts({ from: `${D2}T00:00:00Z` })).toEqual([[3, 3, 2]]);
    expect(await counts({ to: `${D2}T00:00:00Z` })).toEqual([[2, 4, 3]]);
    expect(await counts({ from: `${D1}T11:00:00Z`, to: `${D2}T09:00:00.001Z` })).toEqual([[2, 3, 2]]);
    // Nothing matches: one row of zeros without grouping, no rows with it.
    expect(await rows([], { carrier: "Nobody" })).toEqual([expect.objectContaining({ transfers: 0, messages: 0, deliveryRate: null, timeToDeliver: none })]);
    expect(await rows(["CHANNEL"], { carrier: "Nobody" })).toEqual([]);
  });

  it("another tenant sees only its own", async () => {
    const other = await stats([], undefined, await tokenFor(uniqueTenant("stats-empty")));
    expect(other.data!.receiptStats[0]).toMatchObject({ transfers: 0, messages: 0 });
  });

  it("refuses from after to, and a token without receipts:read", async () => {
    expect(errorCodes((await stats([], { from: `${D2}T00:00:00Z`, to: `${D1}T00:00:00Z` })) as never)).toEqual(["BAD_USER_INPUT"]);
    const writer = await tokenFor(uniqueTenant("stats"), { scopes: ["transfers:write"] });
    expect(errorCodes((await stats([], undefined, writer)) as never)).toEqual(["FORBIDDEN"]);
    expect(errorCodes((await stats([], undefined, "")) as never)).toEqual(["UNAUTHENTICATED"]);
  });
});
