import type { EventEmitter } from "node:events";
import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "../logger.js";
import type { MessageBus, TopicListener } from "./bus.js";

/** How long a subscription waits for a connection that is still being made (at start) before it is refused. */
const READY_WAIT_MS = 1000;

/** One Redis topic on the shared subscriber connection: its listeners, and its SUBSCRIBE until Redis confirms it. */
interface Topic {
  listeners: Set<TopicListener>;
  subscribed: Promise<void>;
  /** Ends the wait for SUBSCRIBE when the connection drops first. */
  abandon(reason: Error): void;
}

/**
 * Plain channels reach every node of a deployment; sharded channels (Redis 7, SSUBSCRIBE) live on
 * the one shard that owns their slot, which is what a Redis Cluster needs to scale its pub/sub.
 */
export type ChannelKind = "plain" | "sharded";
const COMMANDS = {
  plain: { subscribe: "subscribe", unsubscribe: "unsubscribe", message: "message" },
  sharded: { subscribe: "ssubscribe", unsubscribe: "sunsubscribe", message: "smessage" },
} as const;

/** Connection settings every Ackline client of Redis shares. */
export const REDIS_COMMON_OPTIONS: RedisOptions = { enableAutoPipelining: true };
/** Subscribing fails at once while disconnected, and a SUBSCRIBE in flight fails when the connection drops. */
export const SUBSCRIBER_OPTIONS: RedisOptions = { ...REDIS_COMMON_OPTIONS, maxRetriesPerRequest: 0, enableOfflineQueue: false, autoResubscribe: false };

/** Waits a short while for a client still connecting (at start); during an outage it is refused after that wait. */
export async function whenReady(client: { status: string } & Pick<EventEmitter, "once" | "off">, what: string): Promise<void> {
  if (client.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      reject(new Error(`${what} is unavailable (${client.status})`));
    }, READY_WAIT_MS);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once("ready", onReady);
  });
}

/** Closes a client, letting what it has queued out when it is connected. */
export async function closeClient(client: Pick<Redis, "quit" | "disconnect"> & { status: string }): Promise<void> {
  if (client.status === "ready") await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}

/**
 * Every listener of this process on one subscriber connection (a topic is subscribed while it has
 * listeners). Nothing Redis does may end the process, so every command's failure is caught and
 * answered here. A dropped connection loses whatever was published meanwhile: each listener is
 * told (`interrupted`) and dropped, and nothing is resubscribed behind the listeners' backs when
 * Redis returns.
 */
export class RedisSubscriptions {
  private readonly topics = new Map<string, Topic>();
  private readonly commands: (typeof COMMANDS)[ChannelKind];

  constructor(
    private readonly subscriber: Redis,
    channels: ChannelKind,
  ) {
    this.commands = COMMANDS[channels];
    subscriber.on(this.commands.message, (topic: string, payload: string) => {
      for (const listener of this.topics.get(topic)?.listeners ?? []) listener.message(payload);
    });
    subscriber.on("close", () => this.interruptAll(new Error("the connection to Redis was lost")));
  }

  get ready(): boolean {
    return this.subscriber.status === "ready";
  }

  get status(): string {
    return this.subscriber.status;
  }

  async subscribe(topic: string, listener: TopicListener): Promise<() => void> {
    await whenReady(this.subscriber, "Redis");
    let entry = this.topics.get(topic);
    if (!entry) {
      entry = this.subscribeTopic(topic);
      this.topics.set(topic, entry);
    }
    entry.listeners.add(listener);
    const subscribed = entry;
    try {
      await subscribed.subscribed;
    } catch (error) {
      this.remove(topic, subscribed, listener);
      throw error;
    }
    return () => this.remove(topic, subscribed, listener);
  }

  async close(): Promise<void> {
    this.subscriber.removeAllListeners("close");
    this.topics.clear();
    await closeClient(this.subscriber);
  }

  private subscribeTopic(topic: string): Topic {
    let abandon: (reason: Error) => void = () => {};
    const subscribed = new Promise<void>((resolve, reject) => {
      abandon = reject;
      this.subscriber[this.commands.subscribe](topic).then(() => resolve(), reject);
    });
    // Awaited by every listener that joins; this keeps a rejection nobody is waiting for yet quiet.
    subscribed.catch(() => {});
    return { listeners: new Set(), subscribed, abandon };
  }

  private remove(topic: string, entry: Topic, listener: TopicListener): void {
    if (!entry.listeners.delete(listener) || entry.listeners.size > 0 || this.topics.get(topic) !== entry) return;
    this.topics.delete(topic);
    // Refused when the connection is down, and then there is nothing left to unsubscribe from.
    this.subscriber[this.commands.unsubscribe](topic).catch(() => {});
  }

  private interruptAll(reason: Error): void {
    const topics = [...this.topics.values()];
    this.topics.clear();
    for (const topic of topics) {
      topic.abandon(reason);
      for (const listener of topic.listeners) listener.interrupted(reason);
    }
  }
}

/** Redis pub/sub over two ioredis connections: one publishes, one subscribes for every listener of this process. */
export class RedisBus implements MessageBus {
  readonly kind = "redis";
  private readonly subscriptions: RedisSubscriptions;

  constructor(
    private readonly publisher: Redis,
    subscriber: Redis,
  ) {
    this.subscriptions = new RedisSubscriptions(subscriber, "plain");
  }

  async publish(topic: string, payload: string): Promise<void> {
    await this.publisher.publish(topic, payload);
  }

  subscribe(topic: string, listener: TopicListener): Promise<() => void> {
    return this.subscriptions.subscribe(topic, listener);
  }

  async ping(): Promise<void> {
    if (this.publisher.status !== "ready") throw new Error(`Redis is unavailable (${this.publisher.status})`);
    if (!this.subscriptions.ready) throw new Error(`Redis is unavailable (${this.subscriptions.status})`);
    await this.publisher.ping();
  }

  async close(): Promise<void> {
    await Promise.all([this.subscriptions.close(), closeClient(this.publisher)]);
  }
}

export function createRedisBus(redisUrl: string, log: Logger): RedisBus {
  // Publishes wait out a short blip in the offline queue, and fail (logged) after a few reconnect attempts.
  const publisher = new Redis(redisUrl, { ...REDIS_COMMON_OPTIONS, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  const subscriber = new Redis(redisUrl, SUBSCRIBER_OPTIONS);
  for (const client of [publisher, subscriber]) {
    client.on("error", (error: Error) => log.warn({ err: error }, "redis connection error"));
  }
  return new RedisBus(publisher, subscriber);
}
