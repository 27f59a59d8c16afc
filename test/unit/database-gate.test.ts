import { describe, expect, it, vi } from "vitest";
import { DatabaseGate, DatabaseUnavailableError, isDatabaseUnavailable } from "../../src/db/availability.js";

const never = () => new Promise<never>(() => {});
/** As postgres.js reports a connection it could not open. */
const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

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
      const failing = vi.fn(async () => Promise.reject(refused()));
      for (let i = 0; i < 3; i++) await expect(gate.run(failing)).rejects.toThrow("ECONNREFUSED");
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
    await expect(gate.run(() => Promise.reject(refused()))).rejects.toThrow();
    await gate.run(async () => undefined);
    await expect(gate.run(() => Promise.reject(refused()))).rejects.toThrow();
    expect(gate.open).toBe(false);
  });

  it("does not count errors of the request itself: the database answered", async () => {
    const gate = new DatabaseGate({ timeoutMs: 1000, failureThreshold: 2, openMs: 60_000 });
    const notFound = Object.assign(new Error("transfer tx_1 not found"), { code: "NOT_FOUND" });
    const uniqueViolation = Object.assign(new Error("duplicate key"), { code: "23505" });
    for (const error of [notFound, uniqueViolation, notFound]) await expect(gate.run(() => Promise.reject(error))).rejects.toBe(error);
    expect(gate.open).toBe(false);
  });
});

describe("isDatabaseUnavailable", () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });

  it("recognizes a connection that failed or closed, a server shutting down or starting, and a statement timeout", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECT_TIMEOUT", "57P01", "57P03", "08006", "08001", "57014", "53300"]) {
      expect(isDatabaseUnavailable(withCode(code)), code).toBe(true);
    }
    expect(isDatabaseUnavailable(new DatabaseUnavailableError("deadline"))).toBe(true);
  });

  it("follows causes (drizzle wraps the driver's error) and leaves the request's own errors alone", () => {
    expect(isDatabaseUnavailable(new Error("Failed query: select 1", { cause: withCode("57P01") }))).toBe(true);
    for (const code of ["23505", "22P02", "42P01", "NOT_FOUND", "CONFLICT"]) expect(isDatabaseUnavailable(withCode(code)), code).toBe(false);
    expect(isDatabaseUnavailable(new Error("plain"))).toBe(false);
    expect(isDatabaseUnavailable("ECONNREFUSED")).toBe(false);
  });
});
