import { expect } from "vitest";
import { CreateTransferDocument, GetTransferDocument, ReceiptEventsDocument } from "../generated/graphql.js";
import type { startFakeCpaas } from "./fake-cpaas.js";
import { graphql } from "./graphql.js";

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
