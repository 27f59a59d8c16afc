import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** Ackline in its own process (`tsx src/main.ts`), so a test can signal or kill it. */
export async function startAcklineProcess(env: Record<string, string>): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the child did not start within 60 s")), 60_000);
    child.once("exit", (code) => reject(new Error(`the child exited (${code}) before listening`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const url = /"url":"(http:\/\/[^"]+)"/.exec(line)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
  });
  return { url, process: child };
}

/** Resolves with how the process ended: its exit code, or the signal that ended it. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}
