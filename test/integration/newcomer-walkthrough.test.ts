import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshCheckout, REPOSITORY } from "../helpers/fresh-checkout.js";
import { listenOnLoopback } from "../helpers/listen.js";
import { readmeExamples, unmatchedPrintedLines } from "../helpers/readme-examples.js";
import { runShell } from "../helpers/shell.js";

const README = readFileSync(path.join(REPOSITORY, "README.md"), "utf8");
const EXAMPLES = readmeExamples(README);
/** The README shows the token's header as the server prints it. */
const TOKEN_HEADER = /^```\n(Development token .*)\n/m.exec(README)?.[1];
/** `npm start` compiles the TypeScript first, on a small shared machine: minutes, not seconds. */
const START_TIMEOUT_MS = 600_000;
const EXAMPLE_TIMEOUT_MS = 180_000;
/**
 * The README's advice for watching a transfer move: at one step a second it is read before the
 * watch starts, and the README's live lines would not all be printed.
 */
const SIMULATOR_STEP_MS = "5000";

async function freePort(): Promise<number> {
  const server = await listenOnLoopback(createServer());
  await server.close();
  return Number(new URL(server.url).port);
}

/** Stops what `npm start` started: npm, its shell and node share one process group. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid!, "SIGTERM");
  const forced = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 20_000);
  await exited;
  clearTimeout(forced);
}

describe("a newcomer following the README on a fresh checkout", () => {
  let checkout: Awaited<ReturnType<typeof freshCheckout>>;
  let server: ChildProcess;
  let output = "";
  let port: number;
  let url: string;
  let token: string;
  let transferId: string | undefined;

  /** Waits for the server to print `pattern`; fails at once if it exits instead. */
  async function printed(pattern: RegExp): Promise<RegExpExecArray> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const match = pattern.exec(output);
      if (match) return match;
      if (server.exitCode !== null) throw new Error(`npm start exited with ${server.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start never printed ${pattern}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  beforeAll(async () => {
    expect(TOKEN_HEADER, "README shows the development token's header").toBeDefined();
    expect(EXAMPLES.length, "README examples that show their output").toBeGreaterThanOrEqual(3);
    checkout = await freshCheckout();
    port = await freePort();
    // Nothing configured but the port, and the simulator's pace as the README advises for watching.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), SIMULATOR_STEP_MS };
    server = spawn("npm", ["start"], { cwd: checkout.dir, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    server.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    server.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    url = (await printed(/Ackline listening on (http:\/\/\S+)/))[1]!;
    token = (await printed(new RegExp(`${TOKEN_HEADER!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n(\\S+)\\n`)))[1]!;
  }, START_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    if (server) await stopGroup(server);
    await checkout?.remove();
  }, 60_000);

  it("npm start prints the URL on the port PORT names, and a development token", () => {
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(token).toMatch(/^eyJ[\w-]*\.[\w-]+\.[\w-]+$/);
  });

  it("the printed URL opens the root page", async () => {
    const response = await fetch(`${url}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`href="/graphql"`);
  });

  it.each(EXAMPLES.map((example, index) => ({ ...example, name: `${index + 1}: ${example.script.split("\n").find((line) => line && !line.startsWith("#"))}` })))(
    "README example $name works as printed",
    async ({ script, printed: shown }) => {
      if (script.includes("tx_…")) expect(transferId, "an earlier example created a transfer").toBeDefined();
      const { code, stdout, stderr } = await runShell(script.replaceAll("tx_…", transferId ?? "tx_…"), {
        cwd: checkout.dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ACKLINE_URL: url, TOKEN: token },
        timeoutMs: EXAMPLE_TIMEOUT_MS - 10_000,
      });
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(unmatchedPrintedLines(stdout, shown), `printed:\n${stdout}`).toEqual([]);
      transferId ??= /"id":"(tx_[^"]+)"/.exec(stdout)?.[1];
    },
    EXAMPLE_TIMEOUT_MS,
  );
});
