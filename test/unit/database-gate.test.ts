import { describe, expect, it, vi } from "vitest";
import { DatabaseGate, DatabaseUnavailableError } from "../../src/db/availability.js";

const never = () => new Promise<never>(() => {});

describe("DatabaseGate", () => {
  it("answers a caller whose database hangs with DatabaseUnavailableError at its deadline", async () => {
    const gate = new DatabaseGate({ timeoutMs: 20, failureThreshold: 5, openMs: 1000 });
    await expect(gate.run(never)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(gate.run(async () => 7)).resolves.toBe(7);
  });

  it("refuses at once after consecutive failures, without calling the database, until it has been open for openMs", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const gate = new DatabaseGate({ timeoutMs: 1000, failureThreshold: 3, openMs: 500 });
      const failing = vi.fn(async () => Promise.reject(new Error("connection refused")));
      for (let i = 0; i < 3; i++) await expect(gate.run(failing)).rejects.toThrow("connection refused");
      expect(gate.open).toBe(true);
      const work = vi.fn(async () => "ok");
      await expect(gate.run(work)).rejects.toThrow(/repeated failures/);
      expect(work).not.toHaveBeenCalled();
      vi.advanceTimersByTime(501);
      await expect(gate.run(work)).resolves.toBe("ok");
      expect(gate.open).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it("counts only consecutive failures: a success in between resets the count", async () => {
    const gate = new DatabaseGate({ timeoutMs: 1000, failureThreshold: 2, openMs: 60_000 });
    await expect(gate.run(() => Promise.reject(new Error("x")))).rejects.toThrow();
    await gate.run(async () => undefined);
    await expect(gate.run(() => Promise.reject(new Error("x")))).rejects.toThrow();
    expect(gate.open).toBe(false);
  });
});
