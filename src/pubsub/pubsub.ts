import type { ListenOptions } from "../domain/live-updates.js";
import type { TransferUpdate } from "../domain/model.js";
import type { Logger } from "../logger.js";
import { type BusKind, MemoryBus, type MessageBus } from "./bus.js";
import { createRedisBus } from "./redis-bus.js";
import { createRedisClusterBus } from "./redis-cluster-bus.js";
import { TenantRouter, tenantTopic } from "./tenant-router.js";
import { queueUpdates } from "./update-queue.js";

export interface EventPublisher {
  /** Fire-and-forget after commit: the events are already durable, fan-out is best effort. */
  publishUpdates(updates: TransferUpdate[]): void;
}

export class TransferEvents implements EventPublisher {
  private readonly router: TenantRouter;

  constructor(
    private readonly bus: MessageBus,
    private readonly log: Logger,
  ) {
    this.router = new TenantRouter(bus);
  }

  get kind(): BusKind {
    return this.bus.kind;
  }

  /**
   * One message per tenant per batch (a fold's batch is mostly one tenant's), not one per update:
   * the main thread's publishing cost and Redis's fan-out scale with batches, not events.
   */
  publishUpdates(updates: TransferUpdate[]): void {
    const byTenant = new Map<string, TransferUpdate[]>();
    for (const update of updates) {
      const batch = byTenant.get(update.transfer.tenantId);
      if (batch) batch.push(update);
      else byTenant.set(update.transfer.tenantId, [update]);
    }
    for (const [tenantId, batch] of byTenant) {
      this.bus.publish(tenantTopic(tenantId), JSON.stringify(batch)).catch((error: unknown) => {
        this.log.error({ err: error, tenantId, updates: batch.length }, "publish failed");
      });
    }
  }

  /**
   * Subscribes now (not on first pull), so a caller can read the current state afterwards without
   * missing an update in between: the tenant's updates, or one transfer's. Rejects when the bus
   * cannot deliver; see `queueUpdates` for the iterator.
   */
  listen(tenantId: string, options: ListenOptions = {}): Promise<AsyncIterableIterator<TransferUpdate>> {
    return queueUpdates((sink) => this.router.add(tenantId, options.transferId, sink), options.budget);
  }

  ping(): Promise<void> {
    return this.bus.ping();
  }

  close(): Promise<void> {
    return this.bus.close();
  }
}

/** What instances share: a Redis Cluster's seed nodes, else one Redis, else nothing (one instance alone, in-process). */
export interface RedisTarget {
  redisUrl?: string;
  redisClusterUrls?: string[];
}

function createBus(target: RedisTarget, log: Logger): MessageBus {
  if (target.redisClusterUrls) return createRedisClusterBus(target.redisClusterUrls, log);
  if (target.redisUrl) return createRedisBus(target.redisUrl, log);
  return new MemoryBus();
}

export function createTransferEvents(target: RedisTarget, log: Logger): TransferEvents {
  return new TransferEvents(createBus(target, log), log);
}
