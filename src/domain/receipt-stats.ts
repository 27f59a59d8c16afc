import type { Channel } from "./model.js";

/** What statistics group by; DAY is the UTC day the transfer was created. */
export const STATS_DIMENSIONS = ["CHANNEL", "PROVIDER", "CARRIER", "REGION", "DAY"] as const;
export type StatsDimension = (typeof STATS_DIMENSIONS)[number];

/** Messages of transfers created in [from, to), on these channel, provider, carrier and region. */
export interface ReceiptStatsQuery {
  from?: Date;
  to?: Date;
  channel?: Channel;
  provider?: string;
  carrier?: string;
  region?: string;
}

/** A row's place: the dimensions grouped by are set, the others null (a grouped null carrier: none known). */
export interface StatsKey {
  channel: Channel | null;
  provider: string | null;
  carrier: string | null;
  region: string | null;
  /** YYYY-MM-DD (UTC). */
  day: string | null;
}

/** Nearest-rank percentiles in seconds; null when no message of the row got there. */
export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface StatsCounts {
  /** Transfers whose first message is in the row: each transfer counts in exactly one row. */
  transfers: number;
  messages: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  /** Messages that are a fallback of another. */
  fallbacks: number;
  /** Downloaded transfers, counted like `transfers`. */
  downloads: number;
}

export interface ReceiptStatsRow extends StatsCounts {
  key: StatsKey;
  /** Of messages sent; null when none was. */
  deliveryRate: number | null;
  readRate: number | null;
  downloadRate: number | null;
  timeToDeliver: Percentiles;
  timeToRead: Percentiles;
  timeToDownload: Percentiles;
}

export const PERCENTILES = [0.5, 0.9, 0.99] as const;

export function rateOf(count: number, sent: number): number | null {
  return sent === 0 ? null : count / sent;
}
