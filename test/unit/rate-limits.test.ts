import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createRateLimits } from "../../src/rate-limits.js";

const silent = pino({ level: "silent" });

describe("rate limits without Redis (embedded mode): kept in the process", () => {
  it("a limit refuses past its count, with the seconds left in its window", async () => {
    const limits = createRateLimits({ mutations: { points: 2, durationSeconds: 60 }, authFailures: null, recipient: null, webhookSource: null }, {}, silent);
    expect(await limits.mutations.consume("t:a")).toBeUndefined();
    expect(await limits.mutations.consume("t:a")).toBeUndefined();
    const retryAfter = await limits.mutations.consume("t:a");
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limits.mutations.consume("t:b")).toBeUndefined();
    // Off: never refused.
    for (let index = 0; index < 10; index++) expect(await limits.recipient.consume("192.0.2.1")).toBeUndefined();
    await limits.close();
  });

  it("the last allowed failure blocks the key for the rest of its window; other keys are not blocked", async () => {
    const limits = createRateLimits({ mutations: null, authFailures: { points: 2, durationSeconds: 30 }, recipient: null, webhookSource: null }, {}, silent);
    await limits.authFailures.recordFailure("192.0.2.1");
    expect(limits.authFailures.blockedFor("192.0.2.1")).toBeUndefined();
    await limits.authFailures.recordFailure("192.0.2.1");
    expect(limits.authFailures.blockedFor("192.0.2.1")).toBeGreaterThan(0);
    expect(limits.authFailures.blockedFor("192.0.2.1", Date.now() + 31_000)).toBeUndefined();
    expect(limits.authFailures.blockedFor("192.0.2.2")).toBeUndefined();
    await limits.close();
  });
});
