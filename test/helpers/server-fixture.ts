import type { Client } from "graphql-ws";
import { afterAll, afterEach, beforeAll } from "vitest";
import { startFakeCpaas } from "./fake-cpaas.js";
import { wsClient } from "./graphql.js";
import { startTestServer, type TestServer } from "./server.js";

export interface ServerFixture {
  server: TestServer;
  cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  /** A graphql-ws client to the server, disposed after the test. */
  client: (connectionParams: Record<string, unknown> | undefined) => Client;
}

/** For a describe block: one test server sending through a fake CPaaS, started before and closed after its tests. */
export function serverWithFakeCpaas(): ServerFixture {
  const clients: Client[] = [];
  const fixture = {
    client: (connectionParams: Record<string, unknown> | undefined): Client => {
      const created = wsClient(fixture.server.wsUrl, connectionParams);
      clients.push(created);
      return created;
    },
  } as ServerFixture;
  beforeAll(async () => {
    fixture.cpaas = await startFakeCpaas();
    fixture.server = await startTestServer({ env: { CPAAS_API_URL: fixture.cpaas.url } });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.dispose();
  });
  afterAll(async () => {
    await fixture.server?.close();
    await fixture.cpaas?.close();
  });
  return fixture;
}
