import { type SQL, sql } from "drizzle-orm";
import type { Principal } from "../auth/access-tokens.js";
import type { Database } from "../db/client.js";
import { selectRows, timestamp } from "../db/sql.js";
import { DomainError } from "./errors.js";
import type { Channel } from "./model.js";
import { type Percentiles, rateOf, type ReceiptStatsQuery, type ReceiptStatsRow, STATS_DIMENSIONS, type StatsDimension } from "./receipt-stats.js";

/** Each dimension's column in `message_stats s`, the key field it fills, and how that field is output. */
const DIMENSION_SQL: Record<StatsDimension, { expression: SQL; field: keyof ReceiptStatsRow["key"]; output?: SQL }> = {
  CHANNEL: { expression: sql`s.channel`, field: "channel" },
  PROVIDER: { expression: sql`s.provider`, field: "provider" },
  CARRIER: { expression: sql`s.carrier`, field: "carrier" },
  REGION: { expression: sql`s.region`, field: "region" },
  DAY: { expression: sql`s.day`, field: "day", output: sql`day::text AS day` },
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

/** The three nearest-rank percentiles of a metric from one sort, unpacked into columns. */
function percentileColumns(name: string): { inner: SQL; outer: SQL } {
  const column = sql.raw(`${name}_times`);
  return {
    inner: sql`percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ${sql.raw(`s.${name}_seconds`)}) AS ${column}`,
    outer: sql`${column}[1] AS ${sql.raw(`${name}_p50`)}, ${column}[2] AS ${sql.raw(`${name}_p90`)}, ${column}[3] AS ${sql.raw(`${name}_p99`)}`,
  };
}

const PERCENTILE_COLUMNS = ["deliver", "read", "download"].map(percentileColumns);

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
    const conditions = [sql`s.tenant_id = ${principal.tenantId}`];
    if (query.from) conditions.push(sql`s.transfer_created_at >= ${timestamp(query.from)}`);
    if (query.to) conditions.push(sql`s.transfer_created_at < ${timestamp(query.to)}`);
    if (query.channel) conditions.push(sql`s.channel = ${query.channel}`);
    if (query.provider) conditions.push(sql`s.provider = ${query.provider}`);
    if (query.carrier) conditions.push(sql`s.carrier = ${query.carrier}`);
    if (query.region) conditions.push(sql`s.region = ${query.region}`);
    const keys = dimensions.map(({ expression, field }) => sql`${expression} AS ${sql.raw(field)}`);
    const fields = dimensions.map(({ field }) => sql.raw(field));
    const outputs = dimensions.map(({ field, output }) => output ?? sql.raw(field));
    const rows = await selectRows<AggregateRow>(
      this.db,
      sql`SELECT ${sql.join([...outputs, sql.raw("transfers, messages, sent, delivered, read, failed, fallbacks, downloads"), ...PERCENTILE_COLUMNS.map((p) => p.outer)], sql`, `)}
          FROM (
            SELECT ${sql.join(
              [
                ...keys,
                sql`count(*) FILTER (WHERE s.opens_transfer) AS transfers, count(*) AS messages, count(*) FILTER (WHERE s.sent) AS sent,
                  count(s.deliver_seconds) AS delivered, count(s.read_seconds) AS read, count(*) FILTER (WHERE s.failed) AS failed,
                  count(*) FILTER (WHERE s.fallback) AS fallbacks, count(s.download_seconds) AS downloads`,
                ...PERCENTILE_COLUMNS.map((p) => p.inner),
              ],
              sql`, `,
            )}
            FROM message_stats s
            WHERE ${sql.join(conditions, sql` AND `)}
            ${fields.length > 0 ? sql`GROUP BY ${sql.raw(fields.map((_, index) => index + 1).join(", "))}` : sql``}
          ) AS grouped
          ${fields.length > 0 ? sql`ORDER BY ${sql.join(fields, sql`, `)}` : sql``}`,
    );
    return rows.map(toStatsRow);
  }
}
