import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../src/delivery/dispatcher.js";

const middle = () => 0.5; // jitter factor 1.0
const lowest = () => 0; // jitter factor 0.5
const highest = () => 0.999_999; // jitter factor ~1.5

describe("retry schedule", () => {
  it("doubles from about a second", () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs(attempt, undefined, middle))).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000]);
  });

  it("jitters each delay between half and one and a half times", () => {
    expect(retryDelayMs(3, undefined, lowest)).toBe(2000);
    expect(retryDelayMs(3, undefined, highest)).toBeCloseTo(6000, 0);
  });

  it("never waits more than 15 minutes", () => {
    expect(retryDelayMs(20, undefined, highest)).toBe(15 * 60_000);
    expect(retryDelayMs(2, 60 * 60_000, middle)).toBe(15 * 60_000);
  });

  it("honours a later Retry-After, and ignores an earlier one", () => {
    expect(retryDelayMs(1, 30_000, middle)).toBe(30_000);
    expect(retryDelayMs(4, 100, middle)).toBe(8000);
  });
});
