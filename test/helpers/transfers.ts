import postgres from "postgres";
import { expect } from "vitest";
import { CreateTransferDocument, GetTransferDocument, ReceiptEventsDocument } from "../generated/graphql.js";
import type { startFakeCpaas } from "./fake-cpaas.js";
import { graphql } from "./graphql.js";
import { eventually } from "./wait.js";

/** Creates a transfer to `phone` over GraphQL (failing the test on any error). */
export async function createTransfer(server: { url: string }, token: string, phone: string) {
  const created = await graphql(
    server.url,
    CreateTransferDocument,
    { input: { recipient: { phone }, fileName: "report.pdf", fileSizeBytes: 2048, senderName: "Acme" } },
    token,
  );
  expect(created.body.errors).toBeUndefined();
  return created.body.data!.createTransfer;
}

export async function getTransfer(server: { url: string }, token: string, id: string) {
  const result = await graphql(server.url, GetTransferDocument, { id }, token);
  expect(result.body.errors).toBeUndefined();
  return result.body.data!.transfer;
}

/** A transfer's receipt events, oldest first. */
export async function history(server: { url: string }, token: string, transferId: string) {
  const result = await graphql(server.url, ReceiptEventsDocument, { filter: { transferId }, first: 500 }, token);
  expect(result.body.errors).toBeUndefined();
  return result.body.data!.receiptEvents.edges.map((edge) => edge.node);
}

/** A transfer to `phone` whose RCS message the fake CPaaS accepted, once its provider id is recorded. */
export async function sentTransfer(server: { url: string }, cpaas: Awaited<ReturnType<typeof startFakeCpaas>>, token: string, phone: string) {
  const transfer = await createTransfer(server, token, phone);
  const send = await cpaas.waitForSend(transfer.id, 20_000);
  const deadline = Date.now() + 20_000;
  while ((await getTransfer(server, token, transfer.id))?.messages[0]?.providerMessageId !== send.providerMessageId) {
    if (Date.now() > deadline) throw new Error("the provider id was never recorded");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { transfer, messageId: transfer.messages[0]!.id, providerMessageId: send.providerMessageId! };
}

/** Creates transfers through `server` and waits until the fake provider's ids are recorded. */
export async function sentTransfers(server: { url: string }, token: string, count: number, sql: postgres.Sql) {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const phone = `+1416777${String(Math.floor(Math.random() * 10_000)).padStart(4, "0")}`;
    const created = await graphql(server.url, CreateTransferDocument, { input: { recipient: { phone }, fileName: "q4.zip", fileSizeBytes: 42, senderName: "Acme" } }, token);
    expect(created.body.errors).toBeUndefined();
    ids.push(created.body.data!.createTransfer.id);
  }
  return eventually(async () => {
    const rows = await sql<Array<{ transfer_id: string; provider_message_id: string }>>`
      SELECT transfer_id, provider_message_id FROM messages WHERE transfer_id = ANY(${ids}) AND provider_message_id IS NOT NULL`;
    return rows.length === ids.length ? rows.map((row) => ({ transferId: row.transfer_id, providerMessageId: row.provider_message_id })) : undefined;
  }, "every message to be sent");
}

/** Holds the transfer rows locked from outside the server (as a stuck fold would), until released. */
export async function lockTransfers(databaseUrl: string, transferIds: string[]) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const holding = new Promise<void>((resolve) => (locked = resolve));
  const done = sql
    .begin(async (tx) => {
      await tx`SELECT id FROM transfers WHERE id = ANY(${transferIds}) FOR UPDATE`;
      locked();
      await released;
    })
    .finally(() => sql.end());
  await holding;
  return async () => {
    release();
    await done;
  };
}
