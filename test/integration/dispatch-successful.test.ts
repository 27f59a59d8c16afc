import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CreateTransferDocument, GetTransferDocument } from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { graphql } from "../helpers/graphql.js";
import { startTestServer, TEST_AUDIENCE, TEST_AUTH_SECRET, TEST_GENERIC_SECRET, tokenFor, type TestServer } from "../helpers/server.js";
import { hasPostgres } from "../helpers/services.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

async function createTransfer(url: string, token: string, phone: string, email?: string) {
  const created = await graphql(
    url,
    CreateTransferDocument,
    { input: { recipient: { phone, email }, fileName: "ledger.csv", fileSizeBytes: 2048, senderName: "Acme" } },
    token,
  );
  expect(created.body.errors).toBeUndefined();
  return created.body.data!.createTransfer;
}

async function transferWhen<T>(url: string, token: string, id: string, probe: (transfer: NonNullable<Awaited<ReturnType<typeof getTransfer>>>) => T | undefined, what: string) {
  return eventually(async () => {
    const transfer = await getTransfer(url, token, id);
    return transfer ? probe(transfer) : undefined;
  }, what);
}

async function getTransfer(url: string, token: string, id: string) {
  return (await graphql(url, GetTransferDocument, { id }, token)).body.data?.transfer;
}

/** The built-in simulator's failure modes drive each path: retries, Retry-After, never delivered (fallbacks: fallback-policy.test.ts). */
describe("dispatch through the simulator", () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { SIMULATOR_STEP_MS: "30" } });
    token = await tokenFor(uniqueTenant("dispatch"));
  });
  afterAll(async () => {
    await server?.close();
  });

  it("records the accepted attempt and follows the receipts to READ", async () => {
    const transfer = await createTransfer(server.url, token, "+14165550100");
    const read = await transferWhen(server.url, token, transfer.id, (t) => (t.status === "READ" ? t : undefined), "the transfer to be read");
    expect(read.messages).toHaveLength(1);
    expect(read.messages[0]!.deliveryAttempts).toEqual([
      expect.objectContaining({ attempt: 1, outcome: "ACCEPTED", provider: "simulator", code: 202, error: null, retryAt: null }),
    ]);
  });

  it("retries a 429 no sooner than its Retry-After, then sends", async () => {
    const transfer = await createTransfer(server.url, token, "+14165550429");
    const sent = await transferWhen(server.url, token, transfer.id, (t) => (t.messages[0]?.providerMessageId ? t : undefined), "the send to be accepted");
    const [limited, accepted] = sent.messages[0]!.deliveryAttempts;
    expect(limited).toMatchObject({ attempt: 1, outcome: "RETRY", code: 429 });
    expect(Date.parse(limited!.retryAt!) - Date.parse(limited!.at)).toBeGreaterThanOrEqual(1000);
    expect(accepted).toMatchObject({ attempt: 2, outcome: "ACCEPTED" });
    expect(Date.parse(accepted!.at)).toBeGreaterThanOrEqual(Date.parse(limited!.retryAt!));
    expect(sent.messages[0]!.attempts).toBe(2);
  });

  it("retries transient 5xx answers with backoff until the provider accepts", async () => {
    const transfer = await createTransfer(server.url, token, "+14165550500");
    const sent = await transferWhen(server.url, token, transfer.id, (t) => (t.messages[0]?.providerMessageId ? t : undefined), "the send to be accepted");
    expect(sent.messages[0]!.deliveryAttempts.map((attempt) => [attempt.outcome, attempt.code])).toEqual([
      ["RETRY", 503],
      ["RETRY", 503],
      ["ACCEPTED", 202],
    ]);
    const [first, second] = sent.messages[0]!.deliveryAttempts;
    // Backoff grows: about 1 s, then about 2 s (±50 % jitter).
    expect(Date.parse(first!.retryAt!) - Date.parse(first!.at)).toBeGreaterThanOrEqual(500);
    expect(Date.parse(second!.retryAt!) - Date.parse(second!.at)).toBeGreaterThanOrEqual(1000);
  });

  it("keeps a message that is accepted but never delivered at QUEUED, not SENT", async () => {
    const transfer = await createTransfer(server.url, token, "+14165550000");
    const accepted = await transferWhen(server.url, token, transfer.id, (t) => (t.messages[0]?.providerMessageId ? t : undefined), "the send to be accepted");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const later = await getTransfer(server.url, token, transfer.id);
    expect(accepted.messages[0]!.status).toBe("QUEUED");
    expect(later!.status).toBe("QUEUED");
  });
});

/** One slow provider answer holds only its own slot: the worker keeps sending the rest of the queue. */
describe("dispatch with a slow send in flight", () => {
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let server: TestServer;
  const SLOW_MS = 8000;

  beforeAll(async () => {
    cpaas = await startFakeCpaas(undefined, { delayMs: (body) => (body.to.endsWith("9999") ? SLOW_MS : 0) });
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url } });
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
  });

  it("sends and records more than a claim's worth of messages while one answer is held back", async () => {
    const token = await tokenFor(uniqueTenant("slow"));
    const slow = await createTransfer(server.url, token, "+14165559999");
    await cpaas.waitForSend(slow.id);
    const fast: Array<{ id: string }> = [];
    for (let i = 0; i < 30; i++) fast.push(await createTransfer(server.url, token, `+1416557${String(1000 + i)}`));
    await eventually(
      async () => {
        const transfers = await Promise.all(fast.map((transfer) => getTransfer(server.url, token, transfer.id)));
        return transfers.every((transfer) => transfer?.messages[0]?.providerMessageId) ? true : undefined;
      },
      "every fast send to be recorded",
      SLOW_MS - 1000,
    );
    // The slow one is still waiting for its answer.
    expect((await getTransfer(server.url, token, slow.id))!.messages[0]!.providerMessageId).toBeNull();
  });
});

/** A worker killed between claiming and recording a send loses nothing and sends nothing twice. */
describe("dispatch after a crash", () => {
  const servers: TestServer[] = [];
  let child: ChildProcess | undefined;
  afterEach(async () => {
    child?.kill("SIGKILL");
    for (const server of servers.reverse()) await server.close();
    servers.length = 0;
  });

  it.runIf(hasPostgres() || process.env.CI === "true")("re-sends after the lease lapses with the same client message id, which the provider drops", async () => {
    const cpaas = await startFakeCpaas(undefined, { delayMs: 1500 });
    const api = await startTestServer({ env: { ROLE: "api", CPAAS_API_URL: cpaas.url } });
    servers.push(api);
    const token = await tokenFor(uniqueTenant("crash"));
    const transfers = [];
    for (let i = 0; i < 6; i++) transfers.push(await createTransfer(api.url, token, `+1416555${String(1000 + i)}`));

    const dataDir = await mkdtemp(path.join(tmpdir(), "ackline-worker-"));
    try {
      child = spawn(process.execPath, ["--import", "tsx", "test/helpers/worker-process.ts"], {
        cwd: root,
        env: {
          ...process.env,
          ROLE: "worker",
          PORT: "0",
          LOG_LEVEL: "silent",
          DATA_DIR: dataDir,
          DATABASE_URL: api.databaseUrl,
          AUTH_JWT_SECRET: TEST_AUTH_SECRET,
          AUTH_AUDIENCE: TEST_AUDIENCE,
          WEBHOOK_GENERIC_SECRET: TEST_GENERIC_SECRET,
          CPAAS_API_URL: cpaas.url,
          DISPATCH_LEASE_MS: "1500",
        },
        stdio: ["ignore", "pipe", "inherit"],
      });
      // Killed while its sends are in flight: the provider has them, the worker never hears back.
      await eventually(() => (cpaas.sends.length >= transfers.length ? true : undefined), "the first worker's sends to reach the provider");
      child.kill("SIGKILL");
      const sentBeforeCrash = cpaas.sends.length;

      servers.push(await startTestServer({ databaseUrl: api.databaseUrl, env: { ROLE: "worker", CPAAS_API_URL: cpaas.url, DISPATCH_LEASE_MS: "1500" } }));
      for (const transfer of transfers) {
        await transferWhen(api.url, token, transfer.id, (t) => (t.messages[0]?.providerMessageId ? t : undefined), "every message to be recorded as sent");
      }

      const providerIds = new Map<string, Set<string>>();
      for (const send of cpaas.sends) {
        const ids = providerIds.get(send.body.client_message_id) ?? new Set();
        ids.add(send.providerMessageId!);
        providerIds.set(send.body.client_message_id, ids);
      }
      expect(cpaas.sends.length).toBeGreaterThan(sentBeforeCrash);
      for (const transfer of transfers) {
        const now = await getTransfer(api.url, token, transfer.id);
        const message = now!.messages[0]!;
        // One message at the provider per client message id, and it is the one Ackline recorded.
        expect([...providerIds.get(message.id)!]).toEqual([message.providerMessageId]);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await cpaas.close();
    }
  });
});

/** Several workers share one queue: each message is claimed by one of them and sent once. */
describe.runIf(hasPostgres() || process.env.CI === "true")("two workers on one queue", () => {
  const servers: TestServer[] = [];
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    servers.push(await startTestServer({ env: { CPAAS_API_URL: cpaas.url } }));
    servers.push(await startTestServer({ databaseUrl: servers[0]!.databaseUrl, env: { CPAAS_API_URL: cpaas.url } }));
  });
  afterAll(async () => {
    for (const server of servers.reverse()) await server.close();
    await cpaas?.close();
  });

  it("never send a message twice", async () => {
    const token = await tokenFor(uniqueTenant("workers"));
    const created: Array<{ id: string }> = [];
    // Created on both instances, so both are woken and race for the same rows.
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        created.push(await createTransfer(servers[i % 2]!.url, token, `+1416558${String(1000 + i)}`));
      }),
    );
    const ids = new Set(created.map((transfer) => transfer.id));
    await eventually(() => (cpaas.sends.filter((send) => ids.has(send.body.params.transfer_id)).length >= 60 ? true : undefined), "all sixty sends");
    await new Promise((resolve) => setTimeout(resolve, 700)); // a second send, if any, would arrive by now
    const sends = cpaas.sends.filter((send) => ids.has(send.body.params.transfer_id));
    expect(sends).toHaveLength(60);
    expect(new Set(sends.map((send) => send.body.client_message_id)).size).toBe(60);
    for (const transfer of created) {
      const sent = await transferWhen(servers[0]!.url, token, transfer.id, (t) => (t.messages[0]?.providerMessageId ? t : undefined), "the send to be recorded");
      expect(sent.messages[0]!.deliveryAttempts.map((attempt) => attempt.outcome)).toEqual(["ACCEPTED"]);
    }
  });
});
