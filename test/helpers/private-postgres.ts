import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { freeLoopbackPort } from "./listen.js";

const run = promisify(execFile);

/** A PostgreSQL server of the test's own, to stop and start under load (never the machine's). */
export interface PrivatePostgres {
  /** A database in it, for Ackline. */
  url: string;
  /** `pg_ctl stop -m fast`: connected clients are told the server is shutting down (57P01). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it (if running) and deletes its files. */
  destroy(): Promise<void>;
}

/** Debian installs the server binaries off PATH, one directory per major version: the newest. */
function serverBinaries(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name)) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no PostgreSQL server binaries under ${root}: a private cluster cannot be started`);
  return path.join(root, newest, "bin");
}


/** initdb refuses to run as root: as root, the cluster is made and run as the `postgres` user. */
async function asServerUser(command: string, args: string[]): Promise<void> {
  if (process.getuid?.() === 0) await run("runuser", ["-u", "postgres", "--", command, ...args]);
  else await run(command, args);
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = serverBinaries();
  const dataDir = await mkdtemp(path.join(tmpdir(), "ackline-pg-"));
  if (process.getuid?.() === 0) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: group } = await run("id", ["-g", "postgres"]);
    await chown(dataDir, Number(stdout.trim()), Number(group.trim()));
  }
  const port = await freeLoopbackPort();
  const pgCtl = path.join(bin, "pg_ctl");
  let running = false;
  const start = async () => {
    await asServerUser(pgCtl, ["-D", dataDir, "-l", path.join(dataDir, "server.log"), "-w", "-o", `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"]);
    running = true;
  };
  const stop = async () => {
    await asServerUser(pgCtl, ["-D", dataDir, "-m", "fast", "-w", "stop"]);
    running = false;
  };
  await asServerUser(path.join(bin, "initdb"), ["-D", dataDir, "-U", "postgres", "-A", "trust", "--no-sync"]);
  await start();
  const admin = postgres(`postgres://postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe("CREATE DATABASE ackline");
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/ackline`,
    stop,
    start,
    async destroy() {
      if (running) await asServerUser(pgCtl, ["-D", dataDir, "-m", "immediate", "-w", "stop"]).catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
