import { type ChildProcess, fork } from "node:child_process";
import { writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { Session } from "node:inspector/promises";
import type { AddressInfo } from "node:net";

/**
 * The servers under test run in their own processes, so the bench's own load (the paced latency
 * sender, the subscribers, the in-process fake CPaaS) never shares an event loop with them: on a
 * 2-core machine that is the only fair way to compare a bare `node:http` server with Ackline.
 *
 * Protocol over the IPC channel: the child says `ready` with its URL; the parent may ask `cpu`
 * (answered with `process.cpuUsage()`), `profile-start` / `profile-stop` (a V8 CPU profile of
 * just that window, written to the given file) and finally `close` (answered with `closed`).
 */
type ParentMessage = { type: "cpu" } | { type: "profile-start" } | { type: "profile-stop"; file: string } | { type: "close" };
type ChildMessage =
  | { type: "ready"; url: string }
  | { type: "cpu"; usage: NodeJS.CpuUsage }
  | { type: "profile-started" }
  | { type: "profile-stopped" }
  | { type: "closed" }
  | { type: "failed"; error: string };

export interface ChildServer {
  url: string;
  pid: number;
  /** CPU time (user + system) the child has used so far, in microseconds. */
  cpuMicros(): Promise<number>;
  /** Starts a CPU profile of the child; the returned function stops it and writes `file`. */
  profile(): Promise<(file: string) => Promise<void>>;
  close(): Promise<void>;
}

function nextMessage<T extends ChildMessage["type"]>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`child ${child.pid} sent no "${type}" within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: ChildMessage) => {
      if (message.type === "failed") done(new Error(`child ${child.pid} failed: ${message.error}`));
      else if (message.type === type) done(undefined, message as Extract<ChildMessage, { type: T }>);
    };
    const onExit = (code: number | null, signal: string | null) => done(new Error(`child ${child.pid} exited (${code ?? signal}) before "${type}"`));
    const done = (error?: Error, value?: Extract<ChildMessage, { type: T }>) => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      if (error) reject(error);
      else resolve(value!);
    };
    child.on("message", onMessage);
    child.on("exit", onExit);
  });
}

/** Forks `script` (inheriting tsx's loader from `process.execArgv`) and waits for it to listen. */
export async function startChildServer(script: URL, env: Record<string, string> = {}, startTimeoutMs = 60_000): Promise<ChildServer> {
  const child = fork(script, [], { env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let exited = false;
  child.once("exit", () => (exited = true));
  const { url } = await nextMessage(child, "ready", startTimeoutMs).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });
  const ask = async <T extends ChildMessage["type"]>(message: ParentMessage, answer: T, timeoutMs = 10_000) => {
    const reply = nextMessage(child, answer, timeoutMs);
    child.send(message);
    return reply;
  };
  return {
    url,
    pid: child.pid!,
    async cpuMicros() {
      const { usage } = await ask({ type: "cpu" }, "cpu");
      return usage.user + usage.system;
    },
    async profile() {
      await ask({ type: "profile-start" }, "profile-started");
      return async (file: string) => {
        await ask({ type: "profile-stop", file }, "profile-stopped", 60_000);
      };
    },
    async close() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      try {
        await ask({ type: "close" }, "closed", 15_000);
      } catch {
        child.kill("SIGKILL");
      }
      await gone;
    },
  };
}

/** The child's half: start the server, report its URL, answer the parent, close on request. */
export function serveOverIpc(start: () => Promise<{ url: string; close(): Promise<void> }>): void {
  if (!process.send) throw new Error("run this through bench/run.ts (it needs an IPC channel)");
  const send = (message: ChildMessage) => new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));
  const fail = async (error: unknown) => {
    await send({ type: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  };
  // The parent went away (crash, Ctrl-C): do not linger holding ports and connections.
  process.on("disconnect", () => process.exit(1));
  let session: Session | undefined;

  const handle = async (server: { close(): Promise<void> }, message: ParentMessage) => {
    switch (message.type) {
      case "cpu":
        return send({ type: "cpu", usage: process.cpuUsage() });
      case "profile-start":
        session = new Session();
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.start");
        return send({ type: "profile-started" });
      case "profile-stop": {
        const { profile } = await session!.post("Profiler.stop");
        session!.disconnect();
        session = undefined;
        await writeFile(message.file, JSON.stringify(profile));
        return send({ type: "profile-stopped" });
      }
      case "close":
        await server.close();
        await send({ type: "closed" });
        process.exit(0);
    }
  };

  start().then(
    (server) => {
      process.on("message", (message: ParentMessage) => {
        handle(server, message).catch(async (error: unknown) => {
          await fail(error);
          if (message.type === "close") process.exit(1);
        });
      });
      void send({ type: "ready", url: server.url });
    },
    async (error: unknown) => {
      await fail(error);
      process.exit(1);
    },
  );
}

/** Listens on a free loopback port; `close` drops open keep-alive connections rather than wait for them. */
export async function listenOnLoopback(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
