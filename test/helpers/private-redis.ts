import { type ChildProcess, spawn } from "node:child_process";
import { Redis } from "ioredis";
import { freeLoopbackPort } from "./listen.js";
import { eventually } from "./wait.js";

export interface PrivateRedis {
  url: string;
  /** Stops the server (the machine's own Redis is never touched). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}


/** A redis-server of the test's own, on a free port, to stop and start for outages. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freeLoopbackPort();
  const url = `redis://127.0.0.1:${port}`;
  let server: ChildProcess | undefined;

  async function start(): Promise<void> {
    server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    await eventually(async () => {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on("error", () => {});
      try {
        await probe.connect();
        return (await probe.ping()) === "PONG" ? true : undefined;
      } finally {
        probe.disconnect();
      }
    }, `redis-server on port ${port} to answer`);
  }

  async function stop(): Promise<void> {
    const running = server;
    server = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGKILL");
    await exited;
  }

  await start();
  return { url, start, stop };
}
