import { describe, expect, it } from "vitest";
import type { SendBudget } from "../../src/domain/live-updates.js";
import type { TransferUpdate } from "../../src/domain/model.js";
import type { UpdateSink } from "../../src/pubsub/tenant-router.js";
import { queueUpdates } from "../../src/pubsub/update-queue.js";

/** A budget like a socket's: counts what waits, and says once when the allowance is passed. */
function budgetOf(limit: number) {
  const budget = {
    waiting: 0,
    overflows: 0,
    reserve(count: number) {
      if (budget.waiting + count > limit) {
        budget.overflows++;
        return false;
      }
      budget.waiting += count;
      return true;
    },
    release(count: number) {
      budget.waiting -= count;
    },
  } satisfies SendBudget & Record<string, unknown>;
  return budget;
}

const update = (id: string) => ({ transfer: { id }, event: null }) as unknown as TransferUpdate;

describe("queueUpdates", () => {
  it("holds at most the budget: past it, what waits is dropped and released, the sink is detached and the iterator ends", async () => {
    const budget = budgetOf(3);
    let sink!: UpdateSink;
    let detached = false;
    const queue = await queueUpdates(async (attached) => {
      sink = attached;
      return () => (detached = true);
    }, budget);
    for (const id of ["a", "b"]) sink.deliver(update(id));
    expect((await queue.next()).value).toMatchObject({ transfer: { id: "a" } });
    expect(budget.waiting).toBe(1);
    for (let index = 0; index < 1000; index++) sink.deliver(update(`x${index}`));
    expect(budget.overflows).toBe(1);
    expect(budget.waiting).toBe(0);
    expect(detached).toBe(true);
    expect(await queue.next()).toEqual({ done: true, value: undefined });
  });

  it("within the budget every update comes out in order, and an interruption rejects after them", async () => {
    const budget = budgetOf(10);
    let sink!: UpdateSink;
    const queue = await queueUpdates(async (attached) => {
      sink = attached;
      return () => {};
    }, budget);
    for (const id of ["a", "b", "c"]) sink.deliver(update(id));
    sink.interrupted(new Error("lost"));
    const ids = [];
    for (let index = 0; index < 3; index++) ids.push(((await queue.next()).value as TransferUpdate).transfer.id);
    expect(ids).toEqual(["a", "b", "c"]);
    await expect(queue.next()).rejects.toThrow("lost");
    expect(budget.waiting).toBe(0);
  });
});
