import { createClient } from "graphql-ws";
import postgres from "postgres";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { createTransfer, history } from "../helpers/transfers.js";
import { uniqueTenant } from "../helpers/wait.js";

const CLAIMED = "203.0.113.7";
const PEER = "127.0.0.1";

const createMutation = `mutation ($input: CreateTransferInput!) { createTransfer(input: $input) { id } }`;

/** Creates a transfer over graphql-ws from a socket whose upgrade request carries `headers`. */
async function createOverWebSocket(wsUrl: string, token: string, headers: Record<string, string>): Promise<string> {
  const client = createClient({
    url: wsUrl,
    connectionParams: { Authorization: `Bearer ${token}` },
    webSocketImpl: class extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers });
      }
    },
  });
  try {
    const input = { recipient: { phone: "+14165552001" }, fileName: "ws.pdf", fileSizeBytes: 10, senderName: "Acme" };
    for await (const result of client.iterate<{ createTransfer: { id: string } }>({ query: createMutation, variables: { input } })) {
      expect(result.errors).toBeUndefined();
      return result.data!.createTransfer.id;
    }
    throw new Error("no answer over graphql-ws");
  } finally {
    await client.dispose();
  }
}

/**
 * X-Forwarded-For counts only from a proxy in TRUST_PROXY: otherwise a client could put any
 * address into the proof of a download and into the audit log.
 */
describe.each<{ setting: string; env: Record<string, string>; recorded: string }>([
  { setting: "unset (no proxy trusted)", env: {}, recorded: PEER },
  { setting: "a proxy elsewhere (10.0.0.0/8)", env: { TRUST_PROXY: "10.0.0.0/8" }, recorded: PEER },
  { setting: `the peer itself (${PEER})`, env: { TRUST_PROXY: `::1, ${PEER}` }, recorded: CLAIMED },
])("TRUST_PROXY $setting", ({ env, recorded }) => {
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let server: TestServer;
  let token: string;
  let sql: postgres.Sql | undefined;
  // An address the client's own proxy added before it, then the one the trusted proxy saw.
  const forwarded = { "x-forwarded-for": `198.51.100.1, ${CLAIMED}` };

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, DOWNLOAD_URL_TEMPLATE: "https://files.example.com/{transferId}", ...env } });
    token = await tokenFor(uniqueTenant("proxy"));
    sql = server.databaseUrl ? postgres(server.databaseUrl, { max: 1, onnotice: () => {} }) : undefined;
  });
  afterAll(async () => {
    await sql?.end();
    await server?.close();
    await cpaas?.close();
  });

  const auditIps = async (transferId: string) =>
    sql ? (await sql<{ action: string; ip: string }[]>`SELECT action, ip FROM audit_log WHERE transfer_id = ${transferId} ORDER BY id`).map((row) => [row.action, row.ip]) : undefined;

  it(`a download through the recipient's link records ${recorded}, in its event and in the audit log`, async () => {
    const transfer = await createTransfer(server, token, "+14165552000");
    const link = new URL((await cpaas.waitForSend(transfer.id)).body.params.link);
    const download = await fetch(link, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", ...forwarded }, body: "" });
    expect(download.status).toBe(303);
    const downloaded = (await history(server, token, transfer.id)).find((event) => event.event === "DOWNLOADED");
    expect(downloaded?.metadata).toMatchObject({ ip: recorded });
    const audit = await auditIps(transfer.id);
    if (audit) expect(audit).toContainEqual(["transfer.download", recorded]);
  });

  it(`a mutation over HTTP and over graphql-ws is audited from ${recorded}`, async () => {
    const overHttp = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...forwarded },
      body: JSON.stringify({ query: createMutation, variables: { input: { recipient: { phone: "+14165552002" }, fileName: "a.pdf", fileSizeBytes: 1, senderName: "Acme" } } }),
    });
    const { data } = (await overHttp.json()) as { data: { createTransfer: { id: string } } };
    const overWebSocket = await createOverWebSocket(server.wsUrl, token, forwarded);
    if (!sql) return; // the audit log is read with SQL: PostgreSQL only (CI always has it)
    expect(await auditIps(data.createTransfer.id)).toEqual([["transfer.create", recorded]]);
    expect(await auditIps(overWebSocket)).toEqual([["transfer.create", recorded]]);
  });
});
