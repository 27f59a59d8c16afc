import { createConnection, createServer, type Socket } from "node:net";

export interface FreezableProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** Stops passing bytes either way and holds new connections unanswered: a database that hangs. */
  freeze(): void;
  /** Passes bytes again, for held connections too. */
  thaw(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy to `target` that can stop answering without closing anything, as a hung server does.
 * `observeClient` is called per connection for a listener to what the client sends.
 */
export async function startFreezableProxy(
  target: { host: string; port: number },
  options: { observeClient?: () => (chunk: Buffer) => void } = {},
): Promise<FreezableProxy> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(target);
    const observe = options.observeClient?.();
    if (observe) client.on("data", observe);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    // After pipe(), which resumes its source.
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
      if (frozen) socket.pause();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    freeze() {
      frozen = true;
      for (const socket of sockets) socket.pause();
    },
    thaw() {
      frozen = false;
      for (const socket of sockets) socket.resume();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
