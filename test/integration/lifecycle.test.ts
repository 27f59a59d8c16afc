import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateTransferDocument, GetTransferDocument, TransferUpdatedDocument } from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { graphql, subscribe, wsClient } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { postGeneric } from "../helpers/webhooks.js";

/** The whole loop: create → provider send → webhook → subscription event, over real connections. */
describe("transfer lifecycle", () => {
  let server: TestServer;
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let token: string;

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, CPAAS_TOKEN: "cpaas-token" } });
    token = await tokenFor("acme");
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
  });

  it("sends through the CPaaS and streams each receipt to a subscriber", async () => {
    const created = await graphql(server.url, CreateTransferDocument, {
      input: { recipient: { phone: "+14165550100" }, fileName: "q4.zip", fileSizeBytes: 5_000_000_000, senderName: "Acme DataOps", description: "Q4 data" },
    }, token);
    expect(created.body.errors).toBeUndefined();
    const transfer = created.body.data!.createTransfer;
    expect(transfer.id).toMatch(/^tx_/);
    expect(transfer.status).toBe("QUEUED");
    expect(transfer.fileSizeBytes).toBe(5_000_000_000);

    const client = wsClient(server.wsUrl, { Authorization: `Bearer ${token}` });
    const updates = subscribe(client, TransferUpdatedDocument, { id: transfer.id });
    const first = await updates.next();
    expect(first.data?.transferUpdated.event).toBeNull();
    expect(first.data?.transferUpdated.transfer.id).toBe(transfer.id);

    const send = await cpaas.waitForSend(transfer.id);
    expect(send.authorization).toBe("Bearer cpaas-token");
    expect(send.body).toMatchObject({ to: "+14165550100", type: "rcs", client_message_id: transfer.messages[0]!.id });
    expect(send.body.params).toMatchObject({ transfer_id: transfer.id, sender_name: "Acme DataOps", file_desc: "Q4 data" });
    expect(send.body.params.link).toMatch(new RegExp(`^${server.url}/d/[A-Za-z0-9_-]{32}$`));

    for (const [event, expected] of [["message.sent", "SENT"], ["message.delivered", "DELIVERED"], ["message.read", "READ"]] as const) {
      const posted = await postGeneric(server.url, { event, timestamp: new Date().toISOString(), message_id: send.providerMessageId, channel: "rcs", carrier: "310260" });
      expect(posted.status).toBe(200);
      let update = await updates.next();
      while (update.data?.transferUpdated.event?.event !== expected) update = await updates.next();
      expect(update.data.transferUpdated.transfer.status).toBe(expected);
      expect(update.data.transferUpdated.event).toMatchObject({ transferId: transfer.id, channel: "RCS", provider: "cpaas", source: "generic", carrier: "310260" });
    }
    updates.dispose();
    await client.dispose();

    const after = await graphql(server.url, GetTransferDocument, { id: transfer.id }, token);
    expect(after.body.data?.transfer?.status).toBe("READ");
    expect(after.body.data?.transfer?.messages[0]).toMatchObject({ status: "READ", providerMessageId: send.providerMessageId, attempts: 1 });
  });
});
