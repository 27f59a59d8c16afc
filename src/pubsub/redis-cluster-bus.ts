import calculateSlot from "cluster-key-slot";
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import type { Logger } from "../logger.js";
import type { MessageBus, TopicListener } from "./bus.js";
import { closeClient, REDIS_COMMON_OPTIONS, RedisSubscriptions, SUBSCRIBER_OPTIONS, whenReady } from "./redis-bus.js";

/**
 * Pub/sub on a Redis Cluster with sharded channels: a topic lives on the shard that owns its slot,
 * so each shard carries only its own topics instead of every node relaying every message.
 * Publishes go through the cluster client (SPUBLISH is routed by slot). Subscriptions use one
 * subscriber connection per shard master, each with the guarantees of `RedisSubscriptions`: a
 * shard whose connection drops interrupts only the listeners of its own topics.
 */
export class RedisClusterBus implements MessageBus {
  readonly kind = "redis-cluster";
  /** Subscriber connections by shard master (`host:port`), opened on first use. */
  private readonly shards = new Map<string, RedisSubscriptions>();

  constructor(
    private readonly cluster: Cluster,
    private readonly connectShard: (nodeKey: string) => Redis,
  ) {}

  async publish(topic: string, payload: string): Promise<void> {
    await this.cluster.spublish(topic, payload);
  }

  async subscribe(topic: string, listener: TopicListener): Promise<() => void> {
    await whenReady(this.cluster, "Redis Cluster");
    const owner = this.cluster.slots[calculateSlot(topic)]?.[0];
    if (!owner) throw new Error("no Redis Cluster node serves this topic's slot");
    let shard = this.shards.get(owner);
    if (!shard) {
      shard = new RedisSubscriptions(this.connectShard(owner), "sharded");
      this.shards.set(owner, shard);
    }
    return shard.subscribe(topic, listener);
  }

  async ping(): Promise<void> {
    if (this.cluster.status !== "ready") throw new Error(`Redis Cluster is unavailable (${this.cluster.status})`);
    for (const [node, shard] of this.shards) {
      if (!shard.ready) throw new Error(`Redis Cluster node ${node} is unavailable (${shard.status})`);
    }
    await this.cluster.ping();
  }

  async close(): Promise<void> {
    const shards = [...this.shards.values()];
    this.shards.clear();
    await Promise.all([...shards.map((shard) => shard.close()), closeClient(this.cluster)]);
  }
}

/**
 * A cluster client from seed URLs (`redis://[user:password@]host:port`; the cluster tells the
 * client about the other nodes), the credentials of the first seed used on every node.
 */
export function connectCluster(urls: string[], options: ClusterOptions, nodeOptions: RedisOptions): Cluster {
  const seeds = urls.map((url) => new URL(url));
  const credentials = { username: decodeURIComponent(seeds[0]!.username) || undefined, password: decodeURIComponent(seeds[0]!.password) || undefined };
  return new Cluster(
    seeds.map((seed) => ({ host: seed.hostname, port: Number(seed.port || 6379) })),
    { ...options, redisOptions: { ...credentials, ...nodeOptions } },
  );
}

export function createRedisClusterBus(urls: string[], log: Logger): RedisClusterBus {
  // While the cluster is down a publish fails at once (logged) rather than queue without bound;
  // a node's short blip is waited out by its own connection.
  const cluster = connectCluster(urls, { ...REDIS_COMMON_OPTIONS, enableOfflineQueue: false }, { maxRetriesPerRequest: 2 });
  const credentials = { username: cluster.options.redisOptions?.username, password: cluster.options.redisOptions?.password };
  cluster.on("error", (error: Error) => log.warn({ err: error }, "redis cluster error"));
  cluster.on("node error", (error: Error, node: string) => log.warn({ err: error, node }, "redis cluster node error"));
  return new RedisClusterBus(cluster, (nodeKey) => {
    const separator = nodeKey.lastIndexOf(":");
    const shard = new Redis({ ...SUBSCRIBER_OPTIONS, ...credentials, host: nodeKey.slice(0, separator), port: Number(nodeKey.slice(separator + 1)) });
    shard.on("error", (error: Error) => log.warn({ err: error, node: nodeKey }, "redis shard subscriber error"));
    return shard;
  });
}
