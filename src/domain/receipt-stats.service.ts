import type { Principal } from "../auth/access-tokens.js";
import type { Database } from "../db/client.js";
import { DomainError } from "./errors.js";
import { PERCENTILES, type Percentiles, rateOf, type ReceiptStatsQuery, type ReceiptStatsRow, STATS_DIMENSIONS, type StatsDimension, type StatsKey } from "./receipt-stats.js";
import { FAILED, FALLBACK, OPENS, SENT, type StatsDay, StatsDayCache } from "./stats-day-cache.js";

export function validateStatsQuery(query: ReceiptStatsQuery, groupBy: readonly StatsDimension[]): StatsDimension[] {
  if (query.from && query.to && query.from.getTime() >= query.to.getTime()) {
    throw new DomainError("BAD_USER_INPUT", "from must be before to", { field: "filter.from" });
  }
  const unknown = groupBy.find((dimension) => !STATS_DIMENSIONS.includes(dimension));
  if (unknown) throw new DomainError("BAD_USER_INPUT", `cannot group by ${unknown}`, { field: "groupBy" });
  // In the enum's order, once each: the rows' order does not depend on how the caller listed them.
  return STATS_DIMENSIONS.filter((dimension) => groupBy.includes(dimension));
}

type CodedDimension = "channel" | "provider" | "carrier" | "region";
const COLUMN_OF: Record<Exclude<StatsDimension, "DAY">, CodedDimension> = { CHANNEL: "channel", PROVIDER: "provider", CARRIER: "carrier", REGION: "region" };

/** One row in the making: its counts, and the latencies of the messages that got there. */
class Group {
  readonly counts = { transfers: 0, messages: 0, sent: 0, failed: 0, fallbacks: 0 };
  readonly deliver: number[] = [];
  readonly read: number[] = [];
  readonly download: number[] = [];

  constructor(readonly key: StatsKey) {}

  add(columns: StatsDay, index: number): void {
    const flags = columns.flags[index]!;
    const counts = this.counts;
    counts.messages += 1;
    if (flags & OPENS) counts.transfers += 1;
    if (flags & SENT) counts.sent += 1;
    if (flags & FAILED) counts.failed += 1;
    if (flags & FALLBACK) counts.fallbacks += 1;
    // NaN: the message (or transfer) never got there.
    const deliver = columns.deliver[index]!;
    if (deliver === deliver) this.deliver.push(deliver);
    const read = columns.read[index]!;
    if (read === read) this.read.push(read);
    const download = columns.download[index]!;
    if (download === download) this.download.push(download);
  }

  row(): ReceiptStatsRow {
    const delivered = this.deliver.length;
    const read = this.read.length;
    const downloads = this.download.length;
    const { sent } = this.counts;
    return {
      key: this.key,
      ...this.counts,
      delivered,
      read,
      downloads,
      deliveryRate: rateOf(delivered, sent),
      readRate: rateOf(read, sent),
      downloadRate: rateOf(downloads, sent),
      timeToDeliver: nearestRank(this.deliver),
      timeToRead: nearestRank(this.read),
      timeToDownload: nearestRank(this.download),
    };
  }
}

/** PostgreSQL's `percentile_disc`: the ceil(p·n)-th smallest value. */
export function nearestRank(values: number[]): Percentiles {
  if (values.length === 0) return { p50: null, p90: null, p99: null };
  const sorted = Float64Array.from(values).sort();
  const [p50, p90, p99] = PERCENTILES.map((p) => sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!);
  return { p50: p50!, p90: p90!, p99: p99! };
}

/** Nulls last, like PostgreSQL's ascending order. */
function compareKeys(a: StatsKey, b: StatsKey): number {
  for (const field of ["channel", "provider", "carrier", "region", "day"] as const) {
    const x = a[field];
    const y = b[field];
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

const dayOf = (date: Date) => date.toISOString().slice(0, 10);

/**
 * Delivery funnel and latency statistics over the tenant's messages (see README, "Analytics"):
 * exact counts, and exact nearest-rank percentiles of the time from a transfer's creation to
 * each message's first DELIVERED and READ, and to the transfer's first download. Aggregated here
 * from the tenant's `message_stats` days, which the day cache keeps in memory while they do not change.
 */
export class ReceiptStatsService {
  private readonly days: StatsDayCache;

  constructor(db: Database) {
    this.days = new StatsDayCache(db);
  }

  async stats(principal: Principal, query: ReceiptStatsQuery, groupBy: readonly StatsDimension[]): Promise<ReceiptStatsRow[]> {
    const dimensions = validateStatsQuery(query, groupBy);
    const days = await this.days.days(principal.tenantId, query.from && dayOf(query.from), query.to && dayOf(new Date(query.to.getTime() - 1)));
    const filters: Array<[CodedDimension, number]> = [];
    let matchesNothing = false;
    for (const dimension of ["channel", "provider", "carrier", "region"] as const) {
      const value = query[dimension];
      if (value === undefined) continue;
      const code = this.days.codeOf(value);
      if (code === undefined) matchesNothing = true;
      else filters.push([dimension, code]);
    }
    const from = query.from?.getTime() ?? Number.NEGATIVE_INFINITY;
    const to = query.to?.getTime() ?? Number.POSITIVE_INFINITY;
    const coded = dimensions.filter((dimension): dimension is Exclude<StatsDimension, "DAY"> => dimension !== "DAY").map((dimension) => COLUMN_OF[dimension]);
    const byDay = dimensions.includes("DAY");
    const groups = new Map<string, Group>();
    const span = this.days.codes + 1;
    const columnsOf = (columns: StatsDay) => coded.map((column) => columns[column]);
    const filtered = (columns: StatsDay) => filters.map(([column, code]) => [columns[column], code] as const);
    for (const { day, columns } of matchesNothing ? [] : days) {
      const grouped = columnsOf(columns);
      const wanted = filtered(columns);
      // Per day, groups by a number made of the row's codes (a string only once per group and day).
      const dayGroups = new Map<number, Group>();
      for (let index = 0; index < columns.size; index += 1) {
        const createdAt = columns.createdAt[index]!;
        if (createdAt < from || createdAt >= to) continue;
        let keep = true;
        for (const [values, code] of wanted) if (values[index] !== code) keep = false;
        if (!keep) continue;
        let id = 0;
        for (const values of grouped) id = id * span + values[index]! + 1;
        let group = dayGroups.get(id);
        if (!group) {
          const codes = grouped.map((values) => values[index]!);
          const name = `${codes.join("|")}|${byDay ? day : ""}`;
          group = groups.get(name);
          if (!group) {
            const key: StatsKey = { channel: null, provider: null, carrier: null, region: null, day: byDay ? day : null };
            coded.forEach((column, position) => ((key as Record<CodedDimension, string | null>)[column] = this.days.name(codes[position]!)));
            group = new Group(key);
            groups.set(name, group);
          }
          dayGroups.set(id, group);
        }
        group.add(columns, index);
      }
    }
    if (dimensions.length === 0 && groups.size === 0) groups.set("", new Group({ channel: null, provider: null, carrier: null, region: null, day: null }));
    return [...groups.values()].map((group) => group.row()).sort((a, b) => compareKeys(a.key, b.key));
  }
}
