import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where a V8 CPU profile of the Ackline process spent its time, by layer: each sample goes to the
 * nearest frame (leaf first) that belongs to a known layer, so a socket write issued by postgres.js
 * counts as PostgreSQL client time, not as Node internals.
 *
 *   npx tsx bench/profile-summary.ts bench-profiles/ingest.cpuprofile
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const LAYERS: Array<[string, RegExp]> = [
  ["drizzle-orm (query building, result mapping)", /node_modules\/drizzle-orm\//],
  ["postgres.js (protocol, socket writes to PostgreSQL)", /node_modules\/postgres\//],
  ["Redis pubsub (ioredis)", /node_modules\/(ioredis|redis-parser)\//],
  ["subscription delivery (graphql, graphql-ws, ws, type-graphql)", /node_modules\/(graphql|graphql-ws|ws|type-graphql|@apollo\/server)\//],
  ["webhook verify + normalize (src/webhooks, zod, crypto)", /(\/src\/webhooks\/|node_modules\/zod\/|node:internal\/crypto)/],
  ["ingest logic (src/domain)", /\/src\/domain\//],
  ["pubsub adapter (src/pubsub)", /\/src\/pubsub\//],
  ["HTTP (fastify, node:http)", /(node_modules\/(fastify|find-my-way|avvio|@fastify\/[^/]+)\/|node:_http)/],
  ["metrics (prom-client)", /node_modules\/prom-client\//],
];

export function summarizeProfile(file: string): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const layerOf = new Map<number, string>();
  const classify = (id: number): string => {
    const cached = layerOf.get(id);
    if (cached) return cached;
    const node = byId.get(id)!;
    const name = node.callFrame.functionName;
    let layer: string | undefined;
    if (name === "(idle)" || name === "(garbage collector)" || name === "(program)") layer = name;
    else layer = LAYERS.find(([, pattern]) => pattern.test(node.callFrame.url))?.[0];
    if (!layer) {
      const up = parent.get(id);
      layer = up === undefined ? "other" : classify(up);
    }
    layerOf.set(id, layer);
    return layer;
  };

  const totals = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    total += delta;
    const layer = classify(id);
    totals.set(layer, (totals.get(layer) ?? 0) + delta);
  });
  const busy = total - (totals.get("(idle)") ?? 0);
  const lines = [`${path.basename(file)}: ${(total / 1e6).toFixed(1)} s, main thread busy ${((busy / total) * 100).toFixed(0)}%; share of busy time:`];
  for (const [layer, micros] of [...totals].sort((a, b) => b[1] - a[1])) {
    if (layer === "(idle)") continue;
    lines.push(`  ${((micros / busy) * 100).toFixed(1).padStart(5)}%  ${layer}`);
  }
  return lines.join("\n");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("usage: npx tsx bench/profile-summary.ts <file.cpuprofile>…");
    process.exit(2);
  }
  for (const file of files) console.log(summarizeProfile(file));
}
