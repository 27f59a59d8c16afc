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

/** Whole-machine CPU time from /proc/stat (Linux), in clock ticks summed over all cores; undefined elsewhere. */
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
 * The load generator's CPU in clock ticks, from /proc/self/stat (Linux): this process (the latency
 * sender and subscribers) and the children it has waited for (each wrk run, once it exited).
 */
function readLoadGeneratorTicks(): number | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    // After "pid (comm) ", fields start at the state (field 3): utime, stime, cutime, cstime are fields 14–17.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    return fields[11]! + fields[12]! + fields[13]! + fields[14]!;
  } catch {
    return undefined;
  }
}

/**
 * Measures a phase's CPU: the server child's, the load generator's (wrk or this process) and the
 * whole machine's, as a share of one core (100 = one full core; the machine has `os.cpus().length`).
 */
export function cpuMeter(serverCpuMicros: () => Promise<number>) {
  const startedAt = performance.now();
  const loadGenerator = readLoadGeneratorTicks();
  const machine = readMachineTicks();
  const server = serverCpuMicros();
  return async (cores: number) => {
    const elapsedMicros = (performance.now() - startedAt) * 1000;
    const serverUsed = (await serverCpuMicros()) - (await server);
    const loadGeneratorNow = readLoadGeneratorTicks();
    const machineNow = readMachineTicks();
    const pct = (micros: number) => Math.round((micros / elapsedMicros) * 100);
    // Ticks per core elapsed, so the tick rate itself (USER_HZ) cancels out.
    const elapsedTicks = machine && machineNow ? Math.max(1, machineNow.total - machine.total) / cores : undefined;
    const tickPct = (used: number) => (elapsedTicks ? Math.round((used / elapsedTicks) * 100) : undefined);
    return {
      serverProcessPct: pct(serverUsed),
      loadGeneratorPct: loadGenerator !== undefined && loadGeneratorNow !== undefined ? tickPct(loadGeneratorNow - loadGenerator) : undefined,
      machineBusyPct: machine && machineNow ? tickPct(machineNow.busy - machine.busy) : undefined,
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

/** A metric's samples summed over their labels; undefined when `/metrics` does not have it. */
export function metricValue(text: string, name: string): number | undefined {
  let total: number | undefined;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))) total = (total ?? 0) + Number(match[1]);
  return total;
}

/** A counter's samples summed by the value of one label (e.g. webhook answers by `status`). */
export function metricByLabel(text: string, name: string, label: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const match of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, "gm"))) {
    const value = new RegExp(`${label}="([^"]*)"`).exec(match[1]!)?.[1];
    if (value !== undefined) values[value] = (values[value] ?? 0) + Number(match[2]);
  }
  return values;
}

/** What changed between two `metricByLabel` snapshots (labels that did not move are left out). */
export function labelDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [value, n] of Object.entries(after)) {
    const change = n - (before[value] ?? 0);
    if (change !== 0) delta[value] = change;
  }
  return delta;
}
