import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../src/db/client.js";
import { type Pace, parseRateLimits, SendThrottle } from "../../src/delivery/throttle.js";
import { CreateTransferDocument, GetTransferDocument } from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { graphql } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { createTestDatabase, hasPostgres } from "../helpers/services.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";

const waitOf = (pace: Pace) => {
  if (!("waitMs" in pace)) throw new Error(`expected a slot, got ${JSON.stringify(pace)}`);
  return pace.waitMs;
};
const deferralOf = (pace: Pace) => {
  if (!("deferMs" in pace)) throw new Error(`expected to be put back, got ${JSON.stringify(pace)}`);
  return pace.deferMs;
};

/** Pacing is shared through the database, so every handle here is a separate "instance". */
describe("send throttle (GCRA over a database row)", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const handles: DatabaseHandle[] = [];
  const dataDirs: string[] = [];
  const open = async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "ackline-throttle-"));
    dataDirs.push(dataDir);
    const handle = await openDatabase({ url: database?.url, dataDir: database ? dataDir : dataDirs[0]! });
    handles.push(handle);
    return handle;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const handle of handles) await handle.close();
    await database?.drop();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  });

  it("lets a burst through at once, then spaces sends one interval apart", async () => {
    // Half-second intervals, so the time the calls themselves take hardly matters.
    const throttle = new SendThrottle((await open()).db, parseRateLimits("paced=2:3"));
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) waits.push(waitOf(await throttle.reserve("paced", "RCS")));
    expect(waits.slice(0, 3)).toEqual([0, 0, 0]);
    // The 4th and 5th wait about 500 and 1000 ms (less the time the calls took).
    expect(waits[3]).toBeGreaterThan(250);
    expect(waits[3]).toBeLessThanOrEqual(500);
    expect(waits[4]).toBeGreaterThan(750);
    expect(waits[4]).toBeLessThanOrEqual(1000);
  });

  it("puts a send back, without taking a slot, when its wait would pass five seconds", async () => {
    const throttle = new SendThrottle((await open()).db, parseRateLimits("slow=1"));
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) waits.push(waitOf(await throttle.reserve("slow", "SMS")));
    expect(waits[5]).toBeGreaterThan(4500);
    const first = deferralOf(await throttle.reserve("slow", "SMS"));
    const second = deferralOf(await throttle.reserve("slow", "SMS"));
    expect(first).toBeGreaterThan(5000);
    // No slot was taken: the queue ahead did not grow between the two.
    expect(second).toBeLessThanOrEqual(first);
  });

  it("paces each provider and channel on its own, and leaves unlimited providers alone", async () => {
    const throttle = new SendThrottle((await open()).db, parseRateLimits("solo=1"));
    expect(waitOf(await throttle.reserve("solo", "RCS"))).toBe(0);
    expect(waitOf(await throttle.reserve("solo", "SMS"))).toBe(0);
    expect(waitOf(await throttle.reserve("solo", "RCS"))).toBeGreaterThan(500);
    for (let i = 0; i < 20; i++) expect(await throttle.reserve("unlimited", "RCS")).toEqual({ waitMs: 0 });
  });

  it.runIf(hasPostgres() || process.env.CI === "true")("two instances share one pace", async () => {
    const limits = parseRateLimits("shared=2");
    const [a, b] = [new SendThrottle((await open()).db, limits), new SendThrottle((await open()).db, limits)];
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) waits.push(waitOf(await (i % 2 === 0 ? a : b).reserve("shared", "RCS")));
    expect(waits[0]).toBe(0);
    for (let i = 1; i < waits.length; i++) expect(waits[i]! - waits[i - 1]!).toBeGreaterThan(250);
    expect(waits[5]).toBeGreaterThan(2000);
  });
});

describe.runIf(hasPostgres() || process.env.CI === "true")("dispatch under a rate limit, two workers", () => {
  const servers: TestServer[] = [];
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    const env = { CPAAS_API_URL: cpaas.url, DISPATCH_RATE_LIMITS: "cpaas=5" };
    servers.push(await startTestServer({ env }));
    servers.push(await startTestServer({ env, databaseUrl: servers[0]!.databaseUrl }));
  });
  afterAll(async () => {
    for (const server of servers.reverse()) await server.close();
    await cpaas?.close();
  });

  it("staggers a burst to the provider's pace across both instances, refusing and retrying none", async () => {
    const token = await tokenFor(uniqueTenant("throttle"));
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const created = await graphql(
        servers[i % 2]!.url,
        CreateTransferDocument,
        { input: { recipient: { phone: `+1416556${String(1000 + i)}` }, fileName: "f.pdf", fileSizeBytes: 1, senderName: "Acme" } },
        token,
      );
      expect(created.body.errors).toBeUndefined();
      ids.push(created.body.data!.createTransfer.id);
    }
    await eventually(() => (cpaas.sends.filter((send) => ids.includes(send.body.params.transfer_id)).length >= 10 ? true : undefined), "all ten sends", 20_000);
    const arrivals = cpaas.sends.filter((send) => ids.includes(send.body.params.transfer_id)).map((send) => send.at).sort((x, y) => x - y);
    expect(arrivals).toHaveLength(10);
    // 5 per second: any six consecutive sends span at least about one second.
    for (let i = 0; i + 5 < arrivals.length; i++) expect(arrivals[i + 5]! - arrivals[i]!).toBeGreaterThan(700);
    expect(new Set(cpaas.sends.map((send) => send.body.client_message_id)).size).toBe(cpaas.sends.length);

    for (const id of ids) {
      const transfer = await eventually(async () => {
        const found = (await graphql(servers[0]!.url, GetTransferDocument, { id }, token)).body.data?.transfer;
        return found?.messages[0]?.deliveryAttempts.length ? found : undefined;
      }, "the attempt to be recorded");
      expect(transfer.messages[0]!.deliveryAttempts.map((attempt) => attempt.outcome)).toEqual(["ACCEPTED"]);
      expect(transfer.messages[0]!.attempts).toBe(1);
    }
  });
});
