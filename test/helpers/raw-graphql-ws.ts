import type { FormattedExecutionResult, GraphQLFormattedError } from "graphql";
import WebSocket from "ws";
import type { CloseInfo } from "./subscriptions.js";

/** How one operation sent over a raw socket ended. */
export type OperationEnd =
  | { kind: "complete"; results: FormattedExecutionResult[] }
  | { kind: "error"; errors: GraphQLFormattedError[] }
  | ({ kind: "closed" } & CloseInfo)
  | { kind: "timeout" };

/**
 * A graphql-transport-ws socket driven by hand, to send what the client library never would
 * (oversized, malformed or hostile messages) and see exactly how the server answers.
 */
export interface RawGraphQLSocket {
  /** Subscribes with `payload` under a fresh id and resolves with how that operation ended. */
  run(payload: unknown, timeoutMs?: number): Promise<OperationEnd>;
  /** The same with the payload already written as JSON text. */
  runJson(payloadJson: string, timeoutMs?: number): Promise<OperationEnd>;
  /** Sends a frame as is: a Buffer as a binary frame unless `text` (then its bytes go unchecked in a text frame). */
  sendRaw(data: string | Buffer, options?: { text?: boolean }): void;
  /** The socket's close, whenever it comes (a timeout resolves with code 0). */
  closed(timeoutMs?: number): Promise<CloseInfo>;
  close(): void;
}

/**
 * Opens a socket on the graphql-transport-ws protocol; with `connectionParams`, also initialises
 * it and waits for the ack. `headers` go with the upgrade request (X-Forwarded-For, say).
 */
export async function openRawGraphQLSocket(wsUrl: string, connectionParams?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<RawGraphQLSocket> {
  const socket = new WebSocket(wsUrl, "graphql-transport-ws", { headers });
  socket.on("error", () => {}); // a refused or broken socket shows in its close
  const listeners = new Map<string, (message: { type: string; payload?: unknown }) => void>();
  const whenClosed = new Promise<CloseInfo>((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  socket.on("message", (data: Buffer) => {
    let message: { id?: string; type: string; payload?: unknown };
    try {
      message = JSON.parse(data.toString("utf8")) as typeof message;
    } catch {
      return;
    }
    listeners.get(message.id ?? "")?.(message);
  });
  const closed = (timeoutMs = 10_000) =>
    Promise.race([whenClosed, new Promise<CloseInfo>((resolve) => setTimeout(() => resolve({ code: 0, reason: "no close within the timeout" }), timeoutMs).unref())]);

  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("close", () => reject(new Error("the socket closed before it opened")));
  });
  if (connectionParams) {
    const acknowledged = new Promise<void>((resolve, reject) => {
      listeners.set("", (message) => (message.type === "connection_ack" ? resolve() : undefined));
      void whenClosed.then((info) => reject(new Error(`closed before the ack: ${info.code} ${info.reason}`)));
    });
    socket.send(JSON.stringify({ type: "connection_init", payload: connectionParams }));
    await acknowledged;
  }

  let nextId = 0;
  const runJson = (payloadJson: string, timeoutMs = 15_000) => {
    const id = String(++nextId);
    return new Promise<OperationEnd>((resolve) => {
      const results: FormattedExecutionResult[] = [];
      const finish = (end: OperationEnd) => {
        clearTimeout(timer);
        listeners.delete(id);
        resolve(end);
      };
      const timer = setTimeout(() => finish({ kind: "timeout" }), timeoutMs);
      listeners.set(id, (message) => {
        if (message.type === "next") results.push(message.payload as FormattedExecutionResult);
        else if (message.type === "error") finish({ kind: "error", errors: message.payload as GraphQLFormattedError[] });
        else if (message.type === "complete") finish({ kind: "complete", results });
      });
      void whenClosed.then((info) => finish({ kind: "closed", ...info }));
      socket.send(`{"id":"${id}","type":"subscribe","payload":${payloadJson}}`);
    });
  };
  return {
    run: (payload, timeoutMs) => runJson(JSON.stringify(payload), timeoutMs),
    runJson,
    sendRaw: (data, options) => socket.send(data, { binary: Buffer.isBuffer(data) && !options?.text }),
    closed,
    close: () => socket.close(),
  };
}
