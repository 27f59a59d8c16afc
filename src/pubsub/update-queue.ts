import type { SendBudget } from "../domain/live-updates.js";
import type { TransferUpdate } from "../domain/model.js";
import type { UpdateSink } from "./tenant-router.js";

/**
 * A subscriber's updates as an async iterator: they wait here until pulled (the socket took the
 * previous one), each counted against the connection's budget. Past the budget the connection is
 * being closed: what waits is dropped and the iterator ends. `next` rejects, after what had
 * already arrived, once updates may have been lost.
 */
export async function queueUpdates(
  attach: (sink: UpdateSink) => Promise<() => void>,
  budget?: SendBudget,
): Promise<AsyncIterableIterator<TransferUpdate>> {
  const buffer: TransferUpdate[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: Error | undefined;
  let detach: () => void = () => {};
  const finish = async (): Promise<IteratorResult<TransferUpdate>> => {
    if (!finished) {
      finished = true;
      detach();
      budget?.release(buffer.length);
      buffer.length = 0;
      wake?.();
    }
    return { done: true, value: undefined };
  };
  detach = await attach({
    deliver: (update) => {
      if (finished) return;
      if (budget && !budget.reserve(1)) {
        void finish();
        return;
      }
      buffer.push(update);
      wake?.();
    },
    interrupted: (reason) => {
      failure = reason;
      wake?.();
    },
  });
  const iterator: AsyncIterableIterator<TransferUpdate> = {
    async next() {
      while (!finished && !failure && buffer.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      if (finished) return { done: true, value: undefined };
      if (buffer.length > 0) {
        budget?.release(1);
        return { done: false, value: buffer.shift()! };
      }
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
