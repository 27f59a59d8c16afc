import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import calculateSlot from "cluster-key-slot";
import { Redis } from "ioredis";
import { eventually } from "./wait.js";

export interface PrivateRedisCluster {
  /** Seed URLs, as `REDIS_CLUSTER_URLS` takes them. */
  urls: string[];
  /** The master (`127.0.0.1:port`) whose slots hold this channel. */
  ownerOf(channel: string): string;
  /** Asks one node a command (e.g. `PUBSUB SHARDNUMSUB <channel>`). */
  ask(node: string, ...command: string[]): Promise<unknown>;
  /** Kills one master (SIGKILL); its slots are down until it starts again. */
  stop(node: string): Promise<void>;
  /** Starts it again on the same port with the same cluster state: it serves its slots again. */
  start(node: string): Promise<void>;
  close(): Promise<void>;
}

const SLOTS = 16_384;

async function portFree(port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** A node needs its port and, for the cluster bus, that port + 10000. */
async function freeNodePort(taken: number[]): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    if (!taken.includes(port) && (await portFree(port)) && (await portFree(port + 10_000))) return port;
  }
}

async function answers(port: number, probe: (redis: Redis) => Promise<boolean>): Promise<true | undefined> {
  const redis = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return (await probe(redis)) ? true : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/**
 * A Redis Cluster of the test's own: three masters, no replicas, on free ports, each with its
 * cluster state in a temporary directory (so a node stopped and started takes its slots back).
 * A missing redis-server or redis-cli fails the start: the caller's test fails, it is not skipped.
 * `cluster-require-full-coverage no`: with one master down, the others keep serving their slots.
 */
export async function startPrivateRedisCluster(masters = 3): Promise<PrivateRedisCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), "ackline-redis-cluster-"));
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) ports.push(await freeNodePort(ports));
  const servers = new Map<number, ChildProcess>();
  const portOf = (node: string) => Number(node.slice(node.lastIndexOf(":") + 1));

  async function startNode(port: number): Promise<void> {
    const server = spawn(
      "redis-server",
      [
        "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no",
        "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--cluster-node-timeout", "2000",
        "--cluster-require-full-coverage", "no",
      ],
      { stdio: "ignore" },
    );
    const failed = new Promise<never>((_resolve, reject) => server.once("error", reject));
    failed.catch(() => {});
    servers.set(port, server);
    await Promise.race([failed, eventually(() => answers(port, async (redis) => (await redis.ping()) === "PONG"), `redis-server on port ${port}`)]);
  }

  const clusterOk = () =>
    eventually(async () => {
      for (const port of ports) {
        if (!(await answers(port, async (redis) => String(await redis.call("CLUSTER", "INFO")).includes("cluster_state:ok")))) return undefined;
      }
      return true;
    }, "every node of the cluster to say cluster_state:ok", 30_000);

  await Promise.all(ports.map(startNode));
  await promisify(execFile)("redis-cli", ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", "0", "--cluster-yes"]);
  await clusterOk();

  // The slot ranges as `redis-cli --cluster create` assigned them, read back from the cluster itself.
  const owners: string[] = new Array<string>(SLOTS);
  const admin = new Redis({ host: "127.0.0.1", port: ports[0]!, maxRetriesPerRequest: 1 });
  for (const [from, to, [host, port]] of (await admin.call("CLUSTER", "SLOTS")) as Array<[number, number, [string, number]]>) {
    owners.fill(`${host}:${port}`, from, to + 1);
  }
  admin.disconnect();

  return {
    urls: ports.map((port) => `redis://127.0.0.1:${port}`),
    ownerOf: (channel) => owners[calculateSlot(channel)]!,
    async ask(node, ...command) {
      const redis = new Redis({ host: "127.0.0.1", port: portOf(node), maxRetriesPerRequest: 1 });
      try {
        return await redis.call(command[0]!, ...command.slice(1));
      } finally {
        redis.disconnect();
      }
    },
    async stop(node) {
      const server = servers.get(portOf(node));
      servers.delete(portOf(node));
      if (!server || server.exitCode !== null) return;
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGKILL");
      await exited;
    },
    async start(node) {
      await startNode(portOf(node));
      await clusterOk();
    },
    async close() {
      for (const server of servers.values()) {
        if (server.exitCode === null) {
          const exited = new Promise((resolve) => server.once("exit", resolve));
          server.kill("SIGKILL");
          await exited;
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
