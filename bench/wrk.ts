import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { ChildServer } from "./child.js";
import { CORES, log, settings } from "./harness.js";
import { cpuMeter } from "./stats.js";
import type { ReplayFile } from "./webhooks.js";

/**
 * Load from wrk (Debian's `wrk` package: C, here one thread), driven by `bench/wrk.lua`: a load
 * generator that costs the 2-core machine far less than one in Node would, so the bare server is
 * measured near its own limit and the servers under test get the rest of the machine.
 */
const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("./wrk.lua", import.meta.url));

async function hasWrk(): Promise<boolean> {
  try {
    await run("wrk", ["--version"]);
    return true;
  } catch (error) {
    // wrk prints its version and exits 1; only a missing binary is missing.
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

async function aptGet(...args: string[]): Promise<void> {
  await run("apt-get", ["-y", "-q", ...args], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, maxBuffer: 16 << 20 });
}

/** Installs wrk from the Debian packages when it is missing (needs root). */
export async function ensureWrk(): Promise<void> {
  if (await hasWrk()) return;
  log("wrk is missing: apt-get install -y wrk");
  try {
    await aptGet("install", "wrk").catch(async () => {
      await aptGet("update");
      await aptGet("install", "wrk");
    });
  } catch (error) {
    throw new Error(`could not install wrk (as root: apt-get install -y wrk): ${(error as Error).message}`);
  }
  if (!(await hasWrk())) throw new Error("apt-get installed wrk but it is not on PATH");
}

/** What wrk should send: to `url`, with `bench/wrk.lua` configured by `env`, plus these headers. */
export interface WrkLoad {
  url: string;
  env: Record<string, string>;
  headers?: Record<string, string>;
}

export interface LoadResult {
  okPerSec: number;
  /** Answers below 400 (wrk counts 4xx and 5xx as status errors). */
  ok: number;
  /** Requests made: answered, or sent and still unanswered when the run stopped. */
  generated: number;
  non2xx: number;
  /** Socket errors: connect, read and write. */
  errors: number;
  timeouts: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  durationS: number;
}

interface WrkReport {
  durationUs: number;
  completed: number;
  generated: number;
  statusErrors: number;
  connectErrors: number;
  readErrors: number;
  writeErrors: number;
  timeouts: number;
  latencyUs: { p50: number; p90: number; p99: number; max: number };
}

/** One wrk run: one thread, `connections` connections, `durationS` whole seconds. */
export async function wrk(load: WrkLoad, durationS: number, connections = settings.connections): Promise<LoadResult> {
  const headers = Object.entries(load.headers ?? {}).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
  const args = ["-t1", `-c${connections}`, `-d${Math.max(1, Math.round(durationS))}s`, "--timeout", "10s", "--latency", "-s", SCRIPT, ...headers, load.url];
  const { stdout } = await run("wrk", args, { env: { ...process.env, ...load.env }, maxBuffer: 16 << 20 });
  const line = stdout.split("\n").find((text) => text.startsWith("wrk-result "));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const report = JSON.parse(line.slice("wrk-result ".length)) as WrkReport;
  const seconds = report.durationUs / 1e6;
  const ok = report.completed - report.statusErrors;
  const ms = (micros: number) => Math.round(micros / 10) / 100;
  return {
    okPerSec: Math.round(ok / seconds),
    ok,
    generated: report.generated,
    non2xx: report.statusErrors,
    errors: report.connectErrors + report.readErrors + report.writeErrors,
    timeouts: report.timeouts,
    latencyMs: { p50: ms(report.latencyUs.p50), p90: ms(report.latencyUs.p90), p99: ms(report.latencyUs.p99), max: ms(report.latencyUs.max) },
    durationS: Math.round(seconds * 100) / 100,
  };
}

/** Which of a replay file's webhooks a run sent: lines `from` (inclusive) to `to` (exclusive). */
export interface Replayed {
  from: number;
  to: number;
  /** The run went past the file's end and sent its first webhooks again. */
  wrapped: boolean;
}

/**
 * A replay file sent to one server at `url`: each run starts where the previous one stopped, so a
 * measured run after its warm-up sends webhooks the server has not seen.
 */
export class Replay {
  private sent = 0;
  constructor(
    readonly file: ReplayFile,
    private readonly url: string,
  ) {}

  async run(durationS: number): Promise<LoadResult & { replayed: Replayed }> {
    const from = this.sent;
    const result = await wrk({ url: this.url, env: { WRK_REQS: this.file.path, WRK_START: String(from) } }, durationS);
    this.sent += result.generated;
    return { ...result, replayed: { from, to: this.sent, wrapped: this.sent > this.file.count } };
  }
}

/** A warm-up, then the measured run, with the CPU of the server, wrk and the machine over it. */
export async function warmedLoad<T extends LoadResult>(server: ChildServer, load: (durationS: number) => Promise<T>) {
  await load(settings.warmupS);
  const cpu = cpuMeter(() => server.cpuMicros());
  const measured = await load(settings.durationS);
  return { ...measured, cpu: await cpu(CORES) };
}
