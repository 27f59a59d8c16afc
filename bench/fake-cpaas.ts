import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { GenericSendBody } from "../src/delivery/generic-cpaas.adapter.js";

/**
 * A minimal provider speaking the generic CPaaS send API: `POST /v1/messages` answers 202 with
 * `{"id": "bench_<client_message_id>"}`, so every provider message id is known to the bench the
 * moment the dispatcher sends, and the webhooks it then posts correlate to real messages.
 */
export async function startFakeCpaas() {
  const providerIdByTransfer = new Map<string, string>();
  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  const server = createServer((request, response) => {
    if (request.method !== "POST" || request.url !== "/v1/messages") {
      response.writeHead(404).end();
      return;
    }
    readBody(request).then(
      (text) => {
        const body = JSON.parse(text) as GenericSendBody;
        const id = `bench_${body.client_message_id}`;
        providerIdByTransfer.set(body.params.transfer_id, id);
        response.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ id }));
      },
      () => response.writeHead(400).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    providerIdByTransfer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
