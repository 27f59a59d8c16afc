import { sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { selectRows, textArray } from "../db/sql.js";

/** One UTC day of a tenant's `message_stats`, column by column; dimension values are codes into the cache's dictionary (-1: none). */
export interface StatsDay {
  size: number;
  createdAt: Float64Array;
  channel: Int32Array;
  provider: Int32Array;
  carrier: Int32Array;
  region: Int32Array;
  /** OPENS | FALLBACK | SENT | FAILED bits. */
  flags: Uint8Array;
  /** Seconds; NaN where the message (or transfer) never got there. */
  deliver: Float64Array;
  read: Float64Array;
  download: Float64Array;
}

export const OPENS = 1;
export const FALLBACK = 2;
export const SENT = 4;
export const FAILED = 8;

/** Rows kept across all tenants and days; the least recently used days go first. */
const MAX_CACHED_ROWS = 3_000_000;

interface Cached {
  /** Every row written by a transaction below this id was in the copy. */
  coveredXmin: number;
  day: StatsDay;
}

interface StatsRow {
  day: string;
  created_ms: number;
  channel: string;
  provider: string;
  carrier: string | null;
  region: string | null;
  flags: number;
  deliver: number | null;
  read: number | null;
  download: number | null;
}

/**
 * The tenant's statistics rows by day, kept in memory between queries. Each query first asks the
 * database, per day, for the newest transaction that wrote one of its rows (an index probe a day);
 * a day whose copy was read before that transaction ended is read again, with the snapshot's
 * `xmin`, below which no transaction can still write. So what it returns is always what a direct
 * query would read, and a quiet past costs no reading at all.
 */
export class StatsDayCache {
  private readonly cached = new Map<string, Cached>();
  private readonly codeByName = new Map<string, number>();
  private readonly names: string[] = [];
  private rows = 0;

  constructor(private readonly db: Database) {}

  /** How many distinct dimension values it has coded. */
  get codes(): number {
    return this.names.length;
  }

  name(code: number): string | null {
    return code < 0 ? null : this.names[code]!;
  }

  /** The code of a value, or undefined when no row ever had it (a filter on it matches nothing). */
  codeOf(value: string): number | undefined {
    return this.codeByName.get(value);
  }

  /** The tenant's days from `fromDay` to `toDay` (YYYY-MM-DD, inclusive; unbounded when absent), in order. */
  async days(tenantId: string, fromDay?: string, toDay?: string): Promise<Array<{ day: string; columns: StatsDay }>> {
    const versions = await selectRows<{ day: string; changed: string | number }>(
      this.db,
      sql`WITH bounds AS (
            SELECT coalesce(${fromDay ?? null}::date, (SELECT min(day) FROM message_stats WHERE tenant_id = ${tenantId})) AS first,
              coalesce(${toDay ?? null}::date, (SELECT max(day) FROM message_stats WHERE tenant_id = ${tenantId})) AS last)
          SELECT d::date::text AS day, changed FROM bounds, generate_series(bounds.first, bounds.last, interval '1 day') AS d,
            LATERAL (SELECT max(changed_xid) AS changed FROM message_stats WHERE tenant_id = ${tenantId} AND day = d::date) AS newest
          WHERE changed IS NOT NULL ORDER BY 1`,
    );
    const stale = versions.filter(({ day, changed }) => !(Number(changed) < (this.cached.get(`${tenantId}|${day}`)?.coveredXmin ?? 0)));
    if (stale.length > 0) await this.load(tenantId, stale.map(({ day }) => day));
    return versions.map(({ day }) => {
      const key = `${tenantId}|${day}`;
      const entry = this.cached.get(key)!;
      // Most recently used last, so eviction takes the oldest first.
      this.cached.delete(key);
      this.cached.set(key, entry);
      return { day, columns: entry.day };
    });
  }

  private code(value: string | null): number {
    if (value === null) return -1;
    let code = this.codeByName.get(value);
    if (code === undefined) {
      code = this.names.push(value) - 1;
      this.codeByName.set(value, code);
    }
    return code;
  }

  private async load(tenantId: string, days: string[]): Promise<void> {
    const { xmin, rows } = await this.db.transaction(
      async (tx) => {
        // One snapshot for both: rows of transactions below its xmin are all in the copy.
        const [snapshot] = await selectRows<{ xmin: string | number }>(tx, sql`SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint AS xmin`);
        const found = await selectRows<StatsRow>(
          tx,
          sql`SELECT day::text AS day, (extract(epoch FROM transfer_created_at) * 1000)::float8 AS created_ms, channel, provider, carrier, region,
                (CASE WHEN opens_transfer THEN 1 ELSE 0 END) | (CASE WHEN fallback THEN 2 ELSE 0 END) | (CASE WHEN sent THEN 4 ELSE 0 END)
                  | (CASE WHEN failed THEN 8 ELSE 0 END) AS flags,
                deliver_seconds AS deliver, read_seconds AS read, download_seconds AS download
              FROM message_stats WHERE tenant_id = ${tenantId} AND day = ANY(${textArray(days)}::date[])`,
        );
        return { xmin: Number(snapshot!.xmin), rows: found };
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
    const byDay = new Map<string, StatsRow[]>(days.map((day) => [day, []]));
    for (const row of rows) byDay.get(row.day)!.push(row);
    for (const [day, dayRows] of byDay) this.store(`${tenantId}|${day}`, { coveredXmin: xmin, day: this.columns(dayRows) });
  }

  private columns(rows: StatsRow[]): StatsDay {
    const size = rows.length;
    const day: StatsDay = {
      size,
      createdAt: new Float64Array(size),
      channel: new Int32Array(size),
      provider: new Int32Array(size),
      carrier: new Int32Array(size),
      region: new Int32Array(size),
      flags: new Uint8Array(size),
      deliver: new Float64Array(size),
      read: new Float64Array(size),
      download: new Float64Array(size),
    };
    const seconds = (value: number | null) => (value === null ? Number.NaN : Number(value));
    rows.forEach((row, index) => {
      day.createdAt[index] = Number(row.created_ms);
      day.channel[index] = this.code(row.channel);
      day.provider[index] = this.code(row.provider);
      day.carrier[index] = this.code(row.carrier);
      day.region[index] = this.code(row.region);
      day.flags[index] = Number(row.flags);
      day.deliver[index] = seconds(row.deliver);
      day.read[index] = seconds(row.read);
      day.download[index] = seconds(row.download);
    });
    return day;
  }

  private store(key: string, entry: Cached): void {
    this.rows -= this.cached.get(key)?.day.size ?? 0;
    this.cached.delete(key);
    this.cached.set(key, entry);
    this.rows += entry.day.size;
    for (const [oldest, { day }] of this.cached) {
      if (this.rows <= MAX_CACHED_ROWS || oldest === key) break;
      this.cached.delete(oldest);
      this.rows -= day.size;
    }
  }
}
