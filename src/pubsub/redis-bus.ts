import { Redis } from "ioredis";
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
 * Redis pub/sub over two ioredis connections: one publishes, one subscribes for every listener of
 * this process (a topic is subscribed while it has listeners). Nothing Redis does may end the
 * process, so every command's failure is caught and answered here. A dropped subscriber
 * connection loses whatever was published meanwhile: each listener is told (`interrupted`) and
 * dropped, and nothing is resubscribed behind the listeners' backs when Redis returns.
 */
export class RedisBus implements MessageBus {
  readonly kind = "redis";
  private readonly topics = new Map<string, Topic>();

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
  ) {
    subscriber.on("message", (topic: string, payload: string) => {
      for (const listener of this.topics.get(topic)?.listeners ?? []) listener.message(payload);
    });
    subscriber.on("close", () => this.interruptAll(new Error("the connection to Redis was lost")));
  }

  async publish(topic: string, payload: string): Promise<void> {
    await this.publisher.publish(topic, payload);
  }

  async subscribe(topic: string, listener: TopicListener): Promise<() => void> {
    await this.subscriberReady();
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

  async ping(): Promise<void> {
    for (const client of [this.publisher, this.subscriber]) {
      if (client.status !== "ready") throw new Error(`Redis is unavailable (${client.status})`);
    }
    await this.publisher.ping();
  }

  async close(): Promise<void> {
    this.subscriber.removeAllListeners("close");
    this.topics.clear();
    // QUIT lets queued publishes out; a connection that is down has nothing to let out.
    await Promise.all(
      [this.publisher, this.subscriber].map(async (client) => {
        if (client.status === "ready") await client.quit().catch(() => client.disconnect());
        else client.disconnect();
      }),
    );
  }

  private subscribeTopic(topic: string): Topic {
    let abandon: (reason: Error) => void = () => {};
    const subscribed = new Promise<void>((resolve, reject) => {
      abandon = reject;
      this.subscriber.subscribe(topic).then(() => resolve(), reject);
    });
    // Awaited by every listener that joins; this keeps a rejection nobody is waiting for yet quiet.
    subscribed.catch(() => {});
    return { listeners: new Set(), subscribed, abandon };
  }

  private remove(topic: string, entry: Topic, listener: TopicListener): void {
    if (!entry.listeners.delete(listener) || entry.listeners.size > 0 || this.topics.get(topic) !== entry) return;
    this.topics.delete(topic);
    // Refused when the connection is down, and then there is nothing left to unsubscribe from.
    this.subscriber.unsubscribe(topic).catch(() => {});
  }

  /** At start the connection may still be on its way; during an outage it is refused at once after a short wait. */
  private async subscriberReady(): Promise<void> {
    if (this.subscriber.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.subscriber.off("ready", onReady);
        reject(new Error(`Redis is unavailable (${this.subscriber.status})`));
      }, READY_WAIT_MS);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.subscriber.once("ready", onReady);
    });
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

export function createRedisBus(redisUrl: string, log: Logger): RedisBus {
  const common = { enableAutoPipelining: true };
  // Publishes wait out a short blip in the offline queue, and fail (logged) after a few reconnect attempts.
  const publisher = new Redis(redisUrl, { ...common, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  // Subscribing fails at once while disconnected, and a SUBSCRIBE in flight fails when the connection drops.
  const subscriber = new Redis(redisUrl, { ...common, maxRetriesPerRequest: 0, enableOfflineQueue: false, autoResubscribe: false });
  for (const client of [publisher, subscriber]) {
    client.on("error", (error: Error) => log.warn({ err: error }, "redis connection error"));
  }
  return new RedisBus(publisher, subscriber);
}
