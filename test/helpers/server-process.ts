import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { baseTestEnv } from "./server.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface ServerProcess {
  url: string;
  wsUrl: string;
  /** The exit code (or signal) once the process has ended; null while it runs. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** What it wrote on stderr (a crash's stack trace). */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Ackline in a process of its own, so a test can see whether something ends it (an unhandled
 * rejection would), with the test secrets and `env` on top.
 */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "ackline-process-"));
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "test/helpers/worker-process.ts"], {
    cwd: root,
    env: { ...process.env, ...baseTestEnv(dataDir), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const ready = /^ready (\S+)$/m.exec(stdout);
      if (ready) resolve(ready[1]!);
    });
    void ended.then(() => reject(new Error(`the server process ended before it was ready: ${stderr}`)));
  });
  return {
    url,
    wsUrl: `${url.replace(/^http/, "ws")}/graphql`,
    exit: () => exited,
    stderr: () => stderr,
    async stop() {
      if (!exited) {
        child.kill("SIGKILL");
        await ended;
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
