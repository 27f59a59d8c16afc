import type { TransferUpdate } from "../domain/model.js";
import type { Logger } from "../logger.js";
import { type BusKind, MemoryBus, type MessageBus } from "./bus.js";
import { createRedisBus } from "./redis-bus.js";
import { createRedisClusterBus } from "./redis-cluster-bus.js";

/** One topic per transfer, so Redis does the routing rather than a filter per subscriber. */
export const transferTopic = (transferId: string): string => `ackline.transfer.${transferId}`;

export interface EventPublisher {
  /** Fire-and-forget after commit: the events are already durable, fan-out is best effort. */
  publishUpdates(updates: TransferUpdate[]): void;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * Values crossing the bus are JSON: turn our `…At` timestamps back into dates, in place. A walk
 * after a plain parse, because a `JSON.parse` reviver costs three times as much per update.
 */
function reviveDates<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) if (item && typeof item === "object") reviveDates(item);
  } else if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    for (const key in record) {
      const field = record[key];
      if (typeof field === "string") {
        if (key.endsWith("At") && ISO_DATE.test(field)) record[key] = new Date(field);
      } else if (field && typeof field === "object") reviveDates(field);
    }
  }
  return value;
}

export class TransferEvents implements EventPublisher {
  constructor(
    private readonly bus: MessageBus,
    private readonly log: Logger,
  ) {}

  get kind(): BusKind {
    return this.bus.kind;
  }

  publishUpdates(updates: TransferUpdate[]): void {
    for (const update of updates) {
      this.bus.publish(transferTopic(update.transfer.id), JSON.stringify(update)).catch((error: unknown) => {
        this.log.error({ err: error, transferId: update.transfer.id }, "publish failed");
      });
    }
  }

  /**
   * Subscribes now (not on first pull), so a caller can read the current state afterwards without
   * missing an update in between. Rejects when the bus cannot deliver; the iterator's `next`
   * rejects, after what had already arrived, once updates may have been lost.
   */
  async listen(transferId: string): Promise<AsyncIterableIterator<TransferUpdate>> {
    const buffer: TransferUpdate[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: Error | undefined;
    const unsubscribe = await this.bus.subscribe(transferTopic(transferId), {
      message: (payload) => {
        buffer.push(reviveDates(JSON.parse(payload) as TransferUpdate));
        wake?.();
      },
      interrupted: (reason) => {
        failure = reason;
        wake?.();
      },
    });
    const finish = async (): Promise<IteratorResult<TransferUpdate>> => {
      if (!finished) {
        finished = true;
        unsubscribe();
        wake?.();
      }
      return { done: true, value: undefined };
    };
    const iterator: AsyncIterableIterator<TransferUpdate> = {
      async next() {
        while (!finished && !failure && buffer.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        if (finished) return { done: true, value: undefined };
        if (buffer.length > 0) return { done: false, value: buffer.shift()! };
        throw failure!;
      },
      return: finish,
      throw: async (error: unknown) => {
        await finish();
        throw error;
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
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
