import { sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { sendThrottle } from "../db/schema.js";
import type { Channel } from "../domain/model.js";

/** A provider's pace per sender: sends per second, and how many may go back to back. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** A send waits at most this long for its slot; beyond it, the message goes back to the queue. */
const MAX_WAIT_MS = 5_000;

/** Wait this long, then send; or put the send back for `deferMs` (no slot taken, no attempt spent). */
export type Pace = { waitMs: number } | { deferMs: number };

const milliseconds = (ms: number) => sql`${ms} * interval '1 millisecond'`;

/**
 * Paces sends per provider and channel (one configured sender each) across every instance: a
 * generic cell rate algorithm over one PostgreSQL row per sender, so it runs on PGlite too and
 * bursts are staggered, never refused. `next_slot_at` is when the sends already reserved are all
 * out; a new send may go `burst` intervals before it.
 */
export class SendThrottle {
  constructor(
    private readonly db: Database,
    private readonly limits: ReadonlyMap<string, RateLimit>,
  ) {}

  async reserve(provider: string, channel: Channel): Promise<Pace> {
    const limit = this.limits.get(provider);
    if (!limit) return { waitMs: 0 };
    const key = `${provider}:${channel}`;
    const intervalMs = 1000 / limit.perSecond;
    const slack = (limit.burst - 1) * intervalMs;
    const queueEnd = sql`greatest(${sendThrottle.nextSlotAt}, clock_timestamp())`;
    const msAhead = sql<number>`(extract(epoch from (${sendThrottle.nextSlotAt} - clock_timestamp())) * 1000)::float8`;
    const [reserved] = await this.db
      .insert(sendThrottle)
      .values({ key, nextSlotAt: sql`clock_timestamp() + ${milliseconds(intervalMs)}` })
      .onConflictDoUpdate({
        target: sendThrottle.key,
        set: { nextSlotAt: sql`${queueEnd} + ${milliseconds(intervalMs)}` },
        setWhere: sql`${queueEnd} - clock_timestamp() <= ${milliseconds(slack + MAX_WAIT_MS)}`,
      })
      .returning({ msAhead });
    // Whole milliseconds: the row keeps milliseconds, so a fraction is rounding, not a wait.
    if (reserved) return { waitMs: Math.max(0, Math.floor(reserved.msAhead - limit.burst * intervalMs)) };
    const [queue] = await this.db.select({ msAhead }).from(sendThrottle).where(sql`${sendThrottle.key} = ${key}`);
    return { deferMs: Math.max(intervalMs, (queue?.msAhead ?? 0) - slack) };
  }
}

/** `DISPATCH_RATE_LIMITS`: `provider=perSecond[:burst]`, comma-separated, e.g. `twilio=10:20,cpaas=50`. */
export function parseRateLimits(value: string): Map<string, RateLimit> {
  const limits = new Map<string, RateLimit>();
  for (const entry of value.split(",").map((part) => part.trim()).filter(Boolean)) {
    const match = /^([a-z0-9_-]+)=(\d+(?:\.\d+)?)(?::(\d+))?$/i.exec(entry);
    const perSecond = Number(match?.[2]);
    const burst = match?.[3] === undefined ? 1 : Number(match[3]);
    if (!match || !(perSecond > 0) || burst < 1) throw new Error(`"${entry}" is not provider=perSecond[:burst] with a positive rate`);
    limits.set(match[1]!, { perSecond, burst });
  }
  return limits;
}
