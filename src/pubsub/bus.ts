/** Hears one topic: its messages, then at most once that the bus can no longer promise them. */
export interface TopicListener {
  message(payload: string): void;
  /** Messages may have been lost (the connection dropped); nothing more comes to this listener. */
  interrupted(reason: Error): void;
}

/** Which fan-out carries the topics: one Redis, a Redis Cluster (sharded channels), or this process alone. */
export type BusKind = "redis" | "redis-cluster" | "memory";

/** Topic fan-out: Redis across instances, or in-process when there is only one. */
export interface MessageBus {
  readonly kind: BusKind;
  publish(topic: string, payload: string): Promise<void>;
  /** Resolves with an unsubscribe once the topic's messages reach the listener; rejects when they cannot. */
  subscribe(topic: string, listener: TopicListener): Promise<() => void>;
  /** Rejects at once when the bus cannot deliver right now. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** One process: a publish reaches this process's listeners, synchronously, and never fails. */
export class MemoryBus implements MessageBus {
  readonly kind = "memory";
  private readonly topics = new Map<string, Set<TopicListener>>();

  async publish(topic: string, payload: string): Promise<void> {
    for (const listener of this.topics.get(topic) ?? []) listener.message(payload);
  }

  async subscribe(topic: string, listener: TopicListener): Promise<() => void> {
    const listeners = this.topics.get(topic) ?? new Set();
    this.topics.set(topic, listeners.add(listener));
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.topics.get(topic) === listeners) this.topics.delete(topic);
    };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.topics.clear();
  }
}
