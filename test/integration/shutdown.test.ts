import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { startTestServer } from "../helpers/server.js";
import { eventually } from "../helpers/wait.js";

/**
 * Stopping an instance (every deploy, every test file) must not wait on keep-alive connections.
 * Fastify keeps an idle keep-alive socket open for 72 s, and its close only drops the sockets that
 * are idle at the moment it starts: a request in flight then leaves its connection open, idle,
 * and close() waits until the keep-alive timeout. This came up as a 30 s hang in
 * multi-instance.test.ts, where the simulator's receipts were in flight at close.
 */
describe("shutdown (failing case)", () => {
  it("close() finishes although a keep-alive request was in flight when it began", async () => {
    const server = await startTestServer();
    const { port } = new URL(server.url);
    const body = JSON.stringify({ query: "{ __typename }" });
    const cut = Math.floor(body.length / 2);
    let socket: Socket | undefined;
    let closing: Promise<void> | undefined;
    try {
      const requested = new Promise<void>((resolve) => server.ackline.http.server.once("request", () => resolve()));
      socket = connect(Number(port), "127.0.0.1");
      let response = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => (response += chunk));
      await new Promise<void>((resolve) => socket!.once("connect", () => resolve()));
      // Headers and half the body: the request is routed and waits for the rest.
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, cut)}`,
      );
      await requested;

      let closed = false;
      // The helper's close: Ackline's close(), then dropping the test database.
      closing = server.close().then(() => {
        closed = true;
      });
      await eventually(() => (server.ackline.http.server.listening ? undefined : true), "the server to stop listening");
      socket.write(body.slice(cut));
      await eventually(() => (response.includes("\r\n\r\n") ? response : undefined), "the in-flight request's answer");
      expect(response).toMatch(/^HTTP\/1\.1 200 /);

      // A generous bound, far below Fastify's 72 s keep-alive timeout: this detects a hang, it
      // does not measure speed.
      const finished = await eventually(() => (closed ? true : undefined), "close() to finish", 20_000, 100).catch(() => false);
      expect(finished, "close() still waits on an idle keep-alive connection").toBe(true);
    } finally {
      // Unblocks a hung close(), so the database is still dropped.
      socket?.destroy();
      await (closing ?? server.close());
    }
  }, 60_000);
});
