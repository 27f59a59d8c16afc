import { type SQL, sql } from "drizzle-orm";
import type { Principal } from "../auth/access-tokens.js";
import type { Database } from "../db/client.js";
import { selectRows, timestamp } from "../db/sql.js";
import { DomainError } from "./errors.js";
import type { Channel } from "./model.js";
import { type Percentiles, rateOf, type ReceiptStatsQuery, type ReceiptStatsRow, STATS_DIMENSIONS, type StatsDimension } from "./receipt-stats.js";

/** Each dimension's expression over `messages m JOIN transfers t`, and the key field it fills. */
const DIMENSION_SQL: Record<StatsDimension, { expression: SQL; field: keyof ReceiptStatsRow["key"] }> = {
  CHANNEL: { expression: sql`m.channel`, field: "channel" },
  PROVIDER: { expression: sql`m.provider`, field: "provider" },
  CARRIER: { expression: sql`m.carrier`, field: "carrier" },
  REGION: { expression: sql`m.region`, field: "region" },
  DAY: { expression: sql`to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`, field: "day" },
};

interface AggregateRow {
  channel?: string | null;
  provider?: string | null;
  carrier?: string | null;
  region?: string | null;
  day?: string | null;
  transfers: string | number;
  messages: string | number;
  sent: string | number;
  delivered: string | number;
  read: string | number;
  failed: string | number;
  fallbacks: string | number;
  downloads: string | number;
  deliver_p50: number | null;
  deliver_p90: number | null;
  deliver_p99: number | null;
  read_p50: number | null;
  read_p90: number | null;
  read_p99: number | null;
  download_p50: number | null;
  download_p90: number | null;
  download_p99: number | null;
}

/** Seconds from the transfer's creation (never negative: a provider clock running early counts as at once). */
const secondsSinceCreation = (at: SQL) => sql`CASE WHEN ${at} IS NOT NULL THEN greatest(0, extract(epoch FROM ${at} - t.created_at))::float8 END`;

/** The three nearest-rank percentiles of a metric from one sort, unpacked into columns. */
function percentileColumns(name: string, value: SQL): { inner: SQL; outer: SQL } {
  const column = sql.raw(`${name}_times`);
  return {
    inner: sql`percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ${value}) AS ${column}`,
    outer: sql`${column}[1] AS ${sql.raw(`${name}_p50`)}, ${column}[2] AS ${sql.raw(`${name}_p90`)}, ${column}[3] AS ${sql.raw(`${name}_p99`)}`,
  };
}

const PERCENTILE_COLUMNS = [
  percentileColumns("deliver", secondsSinceCreation(sql`m.delivered_at`)),
  percentileColumns("read", secondsSinceCreation(sql`m.read_at`)),
  percentileColumns("download", sql`CASE WHEN m.opens_transfer THEN ${secondsSinceCreation(sql`t.downloaded_at`)} END`),
];

export function validateStatsQuery(query: ReceiptStatsQuery, groupBy: readonly StatsDimension[]): StatsDimension[] {
  if (query.from && query.to && query.from.getTime() >= query.to.getTime()) {
    throw new DomainError("BAD_USER_INPUT", "from must be before to", { field: "filter.from" });
  }
  const unknown = groupBy.find((dimension) => !STATS_DIMENSIONS.includes(dimension));
  if (unknown) throw new DomainError("BAD_USER_INPUT", `cannot group by ${unknown}`, { field: "groupBy" });
  // In the enum's order, once each: the rows' order does not depend on how the caller listed them.
  return STATS_DIMENSIONS.filter((dimension) => groupBy.includes(dimension));
}

function percentiles(row: AggregateRow, name: "deliver" | "read" | "download"): Percentiles {
  const value = (p: "p50" | "p90" | "p99") => {
    const raw = row[`${name}_${p}`];
    return raw === null || raw === undefined ? null : Number(raw);
  };
  return { p50: value("p50"), p90: value("p90"), p99: value("p99") };
}

export function toStatsRow(row: AggregateRow): ReceiptStatsRow {
  const count = (value: string | number) => Number(value);
  const sent = count(row.sent);
  const delivered = count(row.delivered);
  const read = count(row.read);
  const downloads = count(row.downloads);
  return {
    key: {
      channel: (row.channel ?? null) as Channel | null,
      provider: row.provider ?? null,
      carrier: row.carrier ?? null,
      region: row.region ?? null,
      day: row.day ?? null,
    },
    transfers: count(row.transfers),
    messages: count(row.messages),
    sent,
    delivered,
    read,
    failed: count(row.failed),
    fallbacks: count(row.fallbacks),
    downloads,
    deliveryRate: rateOf(delivered, sent),
    readRate: rateOf(read, sent),
    downloadRate: rateOf(downloads, sent),
    timeToDeliver: percentiles(row, "deliver"),
    timeToRead: percentiles(row, "read"),
    timeToDownload: percentiles(row, "download"),
  };
}

/**
 * Delivery funnel and latency statistics over the tenant's messages (see README, "Analytics"):
 * exact counts, and nearest-rank percentiles (`percentile_disc`) of the time from a transfer's
 * creation to each message's first DELIVERED and READ, and to the transfer's first download.
 */
export class ReceiptStatsService {
  constructor(private readonly db: Database) {}

  async stats(principal: Principal, query: ReceiptStatsQuery, groupBy: readonly StatsDimension[]): Promise<ReceiptStatsRow[]> {
    const dimensions = validateStatsQuery(query, groupBy).map((dimension) => DIMENSION_SQL[dimension]);
    const conditions = [sql`m.tenant_id = ${principal.tenantId}`, sql`t.tenant_id = ${principal.tenantId}`];
    if (query.from) conditions.push(sql`t.created_at >= ${timestamp(query.from)}`);
    if (query.to) conditions.push(sql`t.created_at < ${timestamp(query.to)}`);
    if (query.channel) conditions.push(sql`m.channel = ${query.channel}`);
    if (query.provider) conditions.push(sql`m.provider = ${query.provider}`);
    if (query.carrier) conditions.push(sql`m.carrier = ${query.carrier}`);
    if (query.region) conditions.push(sql`m.region = ${query.region}`);
    const keys = dimensions.map(({ expression, field }) => sql`${expression} AS ${sql.raw(field)}`);
    const fields = dimensions.map(({ field }) => sql.raw(field));
    const rows = await selectRows<AggregateRow>(
      this.db,
      sql`SELECT ${sql.join([...fields, sql.raw("transfers, messages, sent, delivered, read, failed, fallbacks, downloads"), ...PERCENTILE_COLUMNS.map((p) => p.outer)], sql`, `)}
          FROM (
            SELECT ${sql.join(
              [
                ...keys,
                sql`count(*) FILTER (WHERE m.opens_transfer) AS transfers, count(*) AS messages, count(m.sent_at) AS sent,
                  count(m.delivered_at) AS delivered, count(m.read_at) AS read, count(m.failed_at) AS failed,
                  count(m.fallback_of_message_id) AS fallbacks, count(*) FILTER (WHERE m.opens_transfer AND t.downloaded_at IS NOT NULL) AS downloads`,
                ...PERCENTILE_COLUMNS.map((p) => p.inner),
              ],
              sql`, `,
            )}
            FROM messages m JOIN transfers t ON t.id = m.transfer_id
            WHERE ${sql.join(conditions, sql` AND `)}
            ${fields.length > 0 ? sql`GROUP BY ${sql.raw(fields.map((_, index) => index + 1).join(", "))}` : sql``}
          ) AS grouped
          ${fields.length > 0 ? sql`ORDER BY ${sql.join(fields, sql`, `)}` : sql``}`,
    );
    return rows.map(toStatsRow);
  }
}
