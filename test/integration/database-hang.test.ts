import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { createTestDatabase, hasPostgres } from "../helpers/services.js";
import { startFreezableProxy, type FreezableProxy } from "../helpers/tcp-proxy.js";
import { getTransfer, sentTransfer } from "../helpers/transfers.js";
import { genericSignature } from "../helpers/webhooks.js";

/** Far past the server's deadline, far short of a hang: a request still open by then was held. */
const HELD = 10_000;

async function post(serverUrl: string, payload: Record<string, unknown>) {
  const body = JSON.stringify(payload);
  const response = await fetch(`${serverUrl}/webhooks/generic`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-webhook-signature": genericSignature(body) },
    body,
    signal: AbortSignal.timeout(HELD),
  });
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body: (await response.json()) as Record<string, unknown> };
}

describe.runIf(hasPostgres())("webhook side-door — a database that stops answering", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: FreezableProxy;
  let server: TestServer;
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;

  beforeAll(async () => {
    database = await createTestDatabase();
    const direct = new URL(database!.url);
    proxy = await startFreezableProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const throughProxy = new URL(direct);
    throughProxy.port = String(proxy.port);
    cpaas = await startFakeCpaas();
    server = await startTestServer({
      databaseUrl: throughProxy.toString(),
      env: { CPAAS_API_URL: cpaas.url, DATABASE_REQUEST_TIMEOUT_MS: "1000", DATABASE_CONNECT_TIMEOUT_MS: "1000" },
    });
  });
  afterAll(async () => {
    proxy?.thaw();
    await server?.close();
    await proxy?.close();
    await cpaas?.close();
    await database?.drop();
  });

  it("answers 503 with Retry-After instead of holding the provider, then stores its retry once the database answers again", async () => {
    const token = await tokenFor("acme");
    const { transfer, providerMessageId } = await sentTransfer(server, cpaas, token, "+14165553006");
    const delivered = { event: "message.delivered", timestamp: new Date().toISOString(), message_id: providerMessageId, channel: "rcs" };

    proxy.freeze();
    try {
      const answers = await Promise.all([post(server.url, delivered), post(server.url, delivered), post(server.url, delivered)]);
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(answer.retryAfter).toMatch(/^\d+$/);
        expect(answer.body).not.toHaveProperty("stored");
      }
      const ready = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(HELD) });
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { error: string }).error).toMatch(/database/);
      // After repeated failures the door refuses at once rather than queue more work on a dead store.
      const refused = await post(server.url, delivered);
      expect(refused.status).toBe(503);
    } finally {
      proxy.thaw();
    }

    let retry = await post(server.url, delivered);
    const deadline = Date.now() + 20_000;
    while (retry.status === 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      retry = await post(server.url, delivered);
    }
    expect(retry.status).toBe(200);
    // A request answered 503 may still have committed once the database woke: then the retry is its duplicate.
    expect(retry.body.received).toBe(1);
    expect(Number(retry.body.stored) + Number(retry.body.duplicates)).toBe(1);
    const folded = Date.now() + 20_000;
    while ((await getTransfer(server, token, transfer.id))?.status !== "DELIVERED" && Date.now() < folded) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await getTransfer(server, token, transfer.id))?.status).toBe("DELIVERED");
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});
