import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { GenericSendBody } from "../src/delivery/generic-cpaas.adapter.js";
import { listenOnLoopback } from "./child.js";

/** What the fake has accepted since its last reset (`GET /stats`; `DELETE /stats` resets). */
export interface FakeCpaasStats {
  /** Distinct client message ids accepted. */
  accepted: number;
  /** Sends whose client message id was already accepted: a sender must never repeat one that got an answer. */
  duplicates: number;
  /** Epoch milliseconds of the first and the latest acceptance (null before any). */
  firstAcceptedAt: number | null;
  lastAcceptedAt: number | null;
}

/**
 * A minimal provider speaking the generic CPaaS send API: `POST /v1/messages` with the expected
 * bearer token answers 202 with `{"id": "bench_<client_message_id>"}`, so every provider message id
 * is known to the bench the moment the dispatcher sends, and the webhooks it then posts correlate
 * to real messages. It counts what it accepted, for the dispatch phase, and answers the capability
 * query (`GET /v1/capabilities/<phone>`) that precedes each RCS send.
 */
export async function startFakeCpaas(token: string) {
  const seen = new Set<string>();
  const noneYet = (): FakeCpaasStats => ({ accepted: 0, duplicates: 0, firstAcceptedAt: null, lastAcceptedAt: null });
  let stats = noneYet();
  const readBody = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  const accept = (body: GenericSendBody, response: ServerResponse) => {
    const now = Date.now();
    if (seen.has(body.client_message_id)) stats.duplicates += 1;
    else {
      seen.add(body.client_message_id);
      stats.accepted += 1;
    }
    stats.firstAcceptedAt ??= now;
    stats.lastAcceptedAt = now;
    const id = `bench_${body.client_message_id}`;
    response.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ id }));
  };
  const server = createServer((request, response) => {
    if (request.url === "/stats" && request.method === "GET") {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stats));
      return;
    }
    if (request.url === "/stats" && request.method === "DELETE") {
      seen.clear();
      stats = noneYet();
      response.writeHead(204).end();
      return;
    }
    // The capability query Ackline asks before each RCS send: every bench phone can receive RCS.
    if (request.method === "GET" && request.url?.startsWith("/v1/capabilities/")) {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ rcs: true }));
      return;
    }
    if (request.method !== "POST" || request.url !== "/v1/messages") {
      response.writeHead(404).end();
      return;
    }
    if (request.headers.authorization !== `Bearer ${token}`) {
      response.writeHead(401).end();
      return;
    }
    readBody(request)
      .then((text) => accept(JSON.parse(text) as GenericSendBody, response))
      .catch(() => response.writeHead(400).end());
  });
  return listenOnLoopback(server);
}
