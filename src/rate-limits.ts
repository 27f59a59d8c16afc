import { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { RateLimit, RateLimitSettings } from "./config.js";
import type { Logger } from "./logger.js";
import type { RedisTarget } from "./pubsub/pubsub.js";
import { connectCluster } from "./pubsub/redis-cluster-bus.js";

/** How counting one went: refused past the limit, and the whole seconds until the window ends. */
export interface Count {
  refused: boolean;
  /** What is left in the window after this one (0: this one was the last). */
  remaining: number;
  retryAfterSeconds: number;
}

/** One limit, counted in Redis when there is one (every instance shares it), else in this process. */
export class SharedLimit {
  constructor(private readonly limiter: RateLimiterAbstract | null) {}

  /** Counts one against `key`: undefined while within the limit, else the whole seconds until it may try again. */
  async consume(key: string): Promise<number | undefined> {
    const count = await this.count(key);
    return count?.refused ? count.retryAfterSeconds : undefined;
  }

  /** Counts one against `key`; undefined when the limit is off. */
  async count(key: string): Promise<Count | undefined> {
    if (!this.limiter) return undefined;
    let outcome: RateLimiterRes;
    try {
      outcome = await this.limiter.consume(key);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      outcome = refusal;
    }
    const refused = outcome.consumedPoints > this.limiter.points;
    return { refused, remaining: outcome.remainingPoints, retryAfterSeconds: Math.max(1, Math.ceil(outcome.msBeforeNext / 1000)) };
  }
}

/** Past this many blocked keys, expired ones are swept (an attacker may rotate addresses). */
const SWEEP_AT = 10_000;

/**
 * At most `points` failures per key in a window, then every attempt is refused until it ends,
 * good credentials or not (a refusal must not tell a right guess from a wrong one). Failures are
 * counted in the shared store; refusals are decided from memory, so a door's successful path never
 * waits on Redis. The instance that blocks a key tells the others (`announce`).
 */
export class FailureLimit {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly limit: SharedLimit,
    private readonly announce: (key: string, until: number) => void = () => {},
  ) {}

  /** Seconds until `key` may try again, if it is blocked; no I/O. */
  blockedFor(key: string, now = Date.now()): number | undefined {
    const until = this.blockedUntil.get(key);
    if (until === undefined) return undefined;
    if (until > now) return Math.ceil((until - now) / 1000);
    this.blockedUntil.delete(key);
    return undefined;
  }

  /** Counts a failure of `key`; its last allowed one blocks `key` until the window ends, on every instance. */
  async recordFailure(key: string, now = Date.now()): Promise<void> {
    const count = await this.limit.count(key);
    if (!count || (count.remaining > 0 && !count.refused)) return;
    const until = now + count.retryAfterSeconds * 1000;
    this.block(key, until);
    this.announce(key, until);
  }

  /** Blocks `key` here until `until` (ms since the epoch): this instance's decision, or another's announced. */
  block(key: string, until: number): void {
    if (this.blockedUntil.size >= SWEEP_AT) for (const [blocked, end] of this.blockedUntil) if (end <= Date.now()) this.blockedUntil.delete(blocked);
    this.blockedUntil.set(key, Math.max(until, this.blockedUntil.get(key) ?? 0));
  }
}

export interface RateLimits {
  mutations: SharedLimit;
  authFailures: FailureLimit;
  recipient: SharedLimit;
  webhookSource: SharedLimit;
  close(): Promise<void>;
}

const BLOCKED_CHANNEL = "ackline:rate:blocked";

/**
 * The limits, in Redis or a Redis Cluster when one is configured (blocks announced to every
 * instance on a channel: a plain channel, which a cluster carries to every node).
 * Should Redis fail, each instance counts in its own memory meanwhile (the insurance limiter)
 * rather than refuse or wave everything through.
 */
export function createRateLimits(settings: RateLimitSettings, target: RedisTarget, log: Logger): RateLimits {
  const connect = (options: { enableOfflineQueue?: boolean }) => {
    if (target.redisClusterUrls) return connectCluster(target.redisClusterUrls, options, { maxRetriesPerRequest: 1 });
    return target.redisUrl ? new Redis(target.redisUrl, { ...options, maxRetriesPerRequest: 1 }) : undefined;
  };
  const redis = connect({ enableOfflineQueue: false });
  // Subscribing waits for the connection, so this one queues its commands.
  const announcements = settings.authFailures ? connect({}) : undefined;
  for (const client of [redis, announcements]) client?.on("error", (error) => log.warn({ err: error }, "rate-limit redis connection error"));
  const limiter = (name: string, limit: RateLimit | null): SharedLimit => {
    if (!limit) return new SharedLimit(null);
    const options = { points: limit.points, duration: limit.durationSeconds };
    const memory = new RateLimiterMemory(options);
    return new SharedLimit(redis ? new RateLimiterRedis({ ...options, storeClient: redis, keyPrefix: `ackline:rate:${name}`, insuranceLimiter: memory }) : memory);
  };
  const authFailures = new FailureLimit(limiter("auth-failures", settings.authFailures), (key, until) => {
    redis?.publish(BLOCKED_CHANNEL, JSON.stringify({ key, until })).catch((error: unknown) => log.warn({ err: error }, "announcing a rate-limit block failed"));
  });
  if (announcements) {
    void announcements.subscribe(BLOCKED_CHANNEL).catch((error: unknown) => log.warn({ err: error }, "subscribing to rate-limit blocks failed"));
    announcements.on("message", (_channel: string, message: string) => {
      const { key, until } = JSON.parse(message) as { key: string; until: number };
      authFailures.block(key, until);
    });
  }
  return {
    mutations: limiter("mutations", settings.mutations),
    authFailures,
    recipient: limiter("recipient", settings.recipient),
    webhookSource: limiter("webhook-source", settings.webhookSource),
    async close() {
      redis?.disconnect();
      announcements?.disconnect();
    },
  };
}
