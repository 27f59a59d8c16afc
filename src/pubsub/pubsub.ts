import { PubSub, type PubSubEngine } from "graphql-subscriptions";
import { RedisPubSub } from "graphql-redis-subscriptions";
import { Redis } from "ioredis";
import type { TransferUpdate } from "../domain/model.js";
import type { Logger } from "../logger.js";

/** One topic per transfer, so Redis does the routing rather than a filter per subscriber. */
export const transferTopic = (transferId: string): string => `ackline.transfer.${transferId}`;

export interface EventPublisher {
  /** Fire-and-forget after commit: the events are already durable, fan-out is best effort. */
  publishUpdates(updates: TransferUpdate[]): void;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Values crossing Redis are JSON: turn our `…At` timestamps back into dates. */
function reviveDates(key: string, value: unknown): unknown {
  return typeof value === "string" && key.endsWith("At") && ISO_DATE.test(value) ? new Date(value) : value;
}

export class TransferEvents implements EventPublisher {
  constructor(
    private readonly engine: PubSubEngine,
    private readonly log: Logger,
    readonly kind: "redis" | "memory",
    private readonly clients: Redis[] = [],
  ) {}

  publishUpdates(updates: TransferUpdate[]): void {
    for (const update of updates) {
      this.engine.publish(transferTopic(update.transfer.id), update).catch((error: unknown) => {
        this.log.error({ err: error, transferId: update.transfer.id }, "publish failed");
      });
    }
  }

  /**
   * Subscribes now (not on first pull, as `asyncIterableIterator` would), so a caller can read
   * the current state afterwards without missing an update in between.
   */
  async listen(transferId: string): Promise<AsyncIterableIterator<TransferUpdate>> {
    const buffer: TransferUpdate[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    const subscriptionId = await this.engine.subscribe(
      transferTopic(transferId),
      (update: TransferUpdate) => {
        buffer.push(update);
        wake?.();
      },
      {},
    );
    const finish = async (): Promise<IteratorResult<TransferUpdate>> => {
      if (!finished) {
        finished = true;
        this.engine.unsubscribe(subscriptionId);
        wake?.();
      }
      return { done: true, value: undefined };
    };
    const iterator: AsyncIterableIterator<TransferUpdate> = {
      async next() {
        while (!finished && buffer.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        return finished ? { done: true, value: undefined } : { done: false, value: buffer.shift()! };
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

  async ping(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.ping()));
  }

  async close(): Promise<void> {
    if (this.engine instanceof RedisPubSub) await this.engine.close();
    else this.clients.forEach((client) => client.disconnect());
  }
}

export function createTransferEvents(redisUrl: string | undefined, log: Logger): TransferEvents {
  if (!redisUrl) return new TransferEvents(new PubSub(), log, "memory");
  const options = { maxRetriesPerRequest: 2, enableOfflineQueue: true, enableAutoPipelining: true };
  const publisher = new Redis(redisUrl, options);
  const subscriber = new Redis(redisUrl, options);
  for (const client of [publisher, subscriber]) {
    client.on("error", (error) => log.warn({ err: error }, "redis connection error"));
  }
  const engine = new RedisPubSub({ publisher, subscriber, reviver: reviveDates });
  return new TransferEvents(engine, log, "redis", [publisher, subscriber]);
}
