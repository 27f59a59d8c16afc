import { readFileSync } from "node:fs";

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

/** Whole-machine CPU time from /proc/stat (Linux); undefined elsewhere. */
function readMachineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const [, ...fields] = line.trim().split(/\s+/);
    const ticks = fields.map(Number);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0); // idle + iowait
    const total = ticks.slice(0, 8).reduce((sum, value) => sum + value, 0); // without guest time (already in user)
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/**
 * Measures a phase's CPU: the server child's, this process's (the load generator) and the whole
 * machine's, as a share of one core (100 = one full core; the machine has `os.cpus().length`).
 */
export function cpuMeter(serverCpuMicros: () => Promise<number>) {
  const startedAt = performance.now();
  const own = process.cpuUsage();
  const machine = readMachineTicks();
  const server = serverCpuMicros();
  return async (cores: number) => {
    const elapsedMicros = (performance.now() - startedAt) * 1000;
    const ownUsed = process.cpuUsage(own);
    const serverUsed = (await serverCpuMicros()) - (await server);
    const machineNow = readMachineTicks();
    const pct = (micros: number) => Math.round((micros / elapsedMicros) * 100);
    return {
      serverProcessPct: pct(serverUsed),
      loadGeneratorPct: pct(ownUsed.user + ownUsed.system),
      machineBusyPct:
        machine && machineNow
          ? Math.round(((machineNow.busy - machine.busy) / Math.max(1, machineNow.total - machine.total)) * cores * 100)
          : undefined,
    };
  };
}

/** A Prometheus histogram as read from `/metrics`: cumulative bucket counts, sum and count. */
export interface Histogram {
  buckets: Map<string, number>;
  sum: number;
  count: number;
}

export function parseHistogram(text: string, name: string): Histogram {
  const histogram: Histogram = { buckets: new Map(), sum: 0, count: 0 };
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le) histogram.buckets.set(le, Number(line.slice(line.lastIndexOf(" ") + 1)));
    } else if (line.startsWith(`${name}_sum`)) {
      histogram.sum = Number(line.slice(line.lastIndexOf(" ") + 1));
    } else if (line.startsWith(`${name}_count`)) {
      histogram.count = Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return histogram;
}

/** What happened between two snapshots: batches, mean size, and the share of batches per size range. */
export function histogramDelta(before: Histogram, after: Histogram) {
  const count = after.count - before.count;
  const sum = after.sum - before.sum;
  const distribution: Record<string, number> = {};
  let previousLe = "0";
  let previousCumulative = 0;
  for (const [le, cumulative] of after.buckets) {
    const inBucket = cumulative - (before.buckets.get(le) ?? 0);
    const low = Number(previousLe) + 1;
    const label = le === "+Inf" ? `>${previousLe}` : low >= Number(le) ? le : `${low}-${le}`;
    const batches = inBucket - previousCumulative;
    if (batches > 0) distribution[label] = batches;
    previousLe = le;
    previousCumulative = inBucket;
  }
  return { batches: count, events: sum, meanBatch: count > 0 ? Math.round((sum / count) * 10) / 10 : 0, distribution };
}
