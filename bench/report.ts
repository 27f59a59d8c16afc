import { loadavg } from "node:os";
import type { dispatchThroughput } from "./dispatch.js";
import { CORES, settings, type TableRow } from "./harness.js";
import type { bareRate, floorRate, ingestAndApplied } from "./ingest.js";
import type { subscriberLatency } from "./latency.js";

/** Issue 7's targets on this 2-core machine, each a ratio measured in one run. */
const TARGETS = { ingestToBare: 0.2, appliedToBare: 0.1, p99Ms: 25, dispatchToRaw: 0.1 };

type Bare = Awaited<ReturnType<typeof bareRate>>;
type Floor = Awaited<ReturnType<typeof floorRate>>;
type Ackline = Awaited<ReturnType<typeof ingestAndApplied>>;
type Latency = Awaited<ReturnType<typeof subscriberLatency>>;
type Dispatch = Awaited<ReturnType<typeof dispatchThroughput>>;

/** What the webhook phases measured, before the ratios. */
export interface WebhookMeasures {
  seeding: { transfers: number; seconds: number; how: string };
  webhooks: { count: number; overTransfers: number };
  bareBefore: Bare;
  bareAfter: Bare;
  door: Floor;
  floor: Floor;
  ingest: Ackline["ingest"];
  applied: Ackline["applied"];
  latency: Latency;
}

const thousandths = (value: number) => Math.round(value * 1000) / 1000;

/** The measures with their ratios to the bare server (the mean of its runs before and after). */
export function webhookResults(m: WebhookMeasures) {
  const bare = Math.round((m.bareBefore.okPerSec + m.bareAfter.okPerSec) / 2);
  const toBare = (perSec: number) => thousandths(perSec / bare);
  return {
    seeding: m.seeding,
    webhooks: m.webhooks,
    bare: { okPerSec: bare, before: m.bareBefore, after: m.bareAfter },
    door: { ...m.door, ratioToBare: toBare(m.door.okPerSec) },
    floor: { ...m.floor, ratioToBare: toBare(m.floor.okPerSec) },
    ingest: {
      ...m.ingest,
      ratioToBare: toBare(m.ingest.okPerSec),
      shareOfDoor: thousandths(m.ingest.okPerSec / m.door.okPerSec),
      shareOfFloor: thousandths(m.ingest.okPerSec / m.floor.okPerSec),
    },
    applied: { ...m.applied, ratioToBare: toBare(m.applied.perSec) },
    latency: m.latency,
  };
}

type WebhookResults = ReturnType<typeof webhookResults>;

const cpuText = (cpu: { serverProcessPct: number; loadGeneratorPct?: number; machineBusyPct?: number }) =>
  `cpu: server ${cpu.serverProcessPct}%, load generator ${cpu.loadGeneratorPct ?? "?"}%, machine ${cpu.machineBusyPct ?? "?"}%/${CORES * 100}%`;

export function webhookRows(r: WebhookResults): TableRow[] {
  const floorRow = (label: string, floor: WebhookResults["door"], what: string): TableRow => [
    label,
    `${floor.okPerSec} req/s = ${floor.ratioToBare}x bare`,
    `${what}; non-2xx ${floor.non2xx}, p99 ${floor.latencyMs.p99} ms; rows ${floor.database.rows} of ${floor.database.acknowledged} acknowledged; ${cpuText(floor.cpu)}`,
  ];
  const { drain } = r.applied;
  const backlog = drain.gaugeReported
    ? `backlog at load end ${drain.atLoadEnd.events} (oldest ${drain.atLoadEnd.oldestSeconds} s)${drain.drained ? "" : `, NOT DRAINED: ${drain.left} left`}`
    : "no backlog gauge: folded inline";
  return [
    ["bare node:http", `${r.bare.okPerSec} req/s`, `before ${r.bare.before.okPerSec}, after ${r.bare.after.okPerSec}; p99 ${r.bare.before.latencyMs.p99} ms; ${cpuText(r.bare.before.cpu)}`],
    floorRow("  minimal durable door", r.door, "node:http + HMAC + JSON.parse + group commit (500 rows, 2 lanes)"),
    floorRow("  Ackline's floor", r.floor, "Fastify + Ackline's generic verify/normalize + the same commit"),
    [
      "webhook ingest (generic)",
      `${r.ingest.okPerSec} req/s = ${r.ingest.ratioToBare}x bare`,
      `${r.ingest.shareOfDoor} of the door, ${r.ingest.shareOfFloor} of the floor; non-2xx ${r.ingest.non2xx}, socket errors ${r.ingest.errors}, p99 ${r.ingest.latencyMs.p99} ms; Ackline's answers ${JSON.stringify(r.ingest.serverStatuses)}`,
    ],
    ["  ingest batches", `mean ${r.ingest.batches.meanBatch} events/tx`, `${r.ingest.batches.batches} tx; ${cpuText(r.ingest.cpu)} (run + drain)`],
    [
      "applied (acknowledged, folded)",
      `${r.applied.perSec} events/s = ${r.applied.ratioToBare}x bare`,
      `${r.applied.events} events in ${r.applied.windowS} s (run ${r.ingest.durationS} s + drain ${drain.seconds} s); ${backlog}; ` +
        `not folded: ${r.applied.statuses.messagesBehind} messages, ${r.applied.statuses.transfersBehind} transfers of ${r.applied.statuses.checked}; unmatched ${r.ingest.database.unmatched}`,
    ],
    [
      `webhook -> subscriber @ ${r.latency.rateTarget}/s`,
      `p50 ${r.latency.endToEndMs.p50} / p99 ${r.latency.endToEndMs.p99} / max ${r.latency.endToEndMs.max} ms`,
      `${r.latency.transfers} transfers subscribed; received ${r.latency.received}/${r.latency.acknowledged} acknowledged (lost ${r.latency.lost}), non-2xx ${r.latency.non2xx}, achieved ${r.latency.rateAchieved}/s`,
    ],
    [
      "  webhook HTTP answer",
      `p50 ${r.latency.webhookResponseMs.p50} / p99 ${r.latency.webhookResponseMs.p99} ms`,
      `mean batch ${r.latency.batches.meanBatch} events/tx; ${cpuText(r.latency.cpu)}`,
    ],
  ];
}

export interface Target {
  target: string;
  measured: string;
  pass: boolean;
}

/** The targets of what ran, each with its figure and PASS or FAIL. */
export function targets(webhooks: WebhookResults | undefined, dispatch: Dispatch | undefined): Target[] {
  const list: Target[] = [];
  if (webhooks) {
    const { ingest, applied, latency } = webhooks;
    list.push(
      { target: `ingest >= ${TARGETS.ingestToBare.toFixed(2)}x bare`, measured: `${ingest.ratioToBare}x`, pass: ingest.ratioToBare >= TARGETS.ingestToBare },
      {
        target: `applied >= ${TARGETS.appliedToBare.toFixed(2)}x bare (backlog drained, every status folded)`,
        measured: `${applied.ratioToBare}x${applied.folded ? "" : ", NOT all folded"}`,
        pass: applied.ratioToBare >= TARGETS.appliedToBare && applied.folded,
      },
      {
        target: `webhook -> subscriber p99 <= ${TARGETS.p99Ms} ms at ${latency.rateTarget}/s (none lost)`,
        measured: `${latency.endToEndMs.p99} ms, lost ${latency.lost}`,
        pass: latency.endToEndMs.p99 <= TARGETS.p99Ms && latency.lost === 0,
      },
    );
    const failed = ingest.warmup.non2xx + ingest.non2xx + ingest.errors + ingest.timeouts + latency.non2xx + latency.requestErrors;
    list.push(
      {
        target: "0 non-2xx from Ackline (and no socket errors or timeouts)",
        measured: `ingest ${ingest.warmup.non2xx + ingest.non2xx} (+${ingest.errors} errors, ${ingest.timeouts} timeouts), latency ${latency.non2xx} (+${latency.requestErrors} errors)`,
        pass: failed === 0,
      },
      {
        target: "every acknowledged event stored once",
        measured:
          `ingest ${ingest.database.stored} rows / ${ingest.ok} acknowledged (Ackline counted ${ingest.database.serverAcknowledged ?? "?"})` +
          `${ingest.database.replayFileExhausted ? ", replay file exhausted: raise BENCH_WEBHOOKS" : ""}; latency ${latency.database.stored} / ${latency.acknowledged}`,
        pass: ingest.database.everyAcknowledgedStoredOnce && latency.database.everyAcknowledgedStoredOnce,
      },
    );
  }
  if (dispatch) {
    list.push({
      target: `dispatch >= ${TARGETS.dispatchToRaw.toFixed(2)}x raw provider (each sent once, recorded)`,
      measured: `${dispatch.ratioToRaw}x${dispatch.checksOk ? "" : ", CHECKS FAILED"}`,
      pass: dispatch.ratioToRaw >= TARGETS.dispatchToRaw && dispatch.checksOk,
    });
  }
  return list;
}

export function printReport(rows: TableRow[], targetList: Target[]): void {
  const print = (lines: string[][]) => {
    const width = lines[0]!.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
    for (const line of lines) console.log(line.map((cell, column) => (column < line.length - 1 ? cell.padEnd(width[column]!) : cell)).join("  "));
  };
  console.log("");
  print(rows);
  console.log("\ntargets");
  print(targetList.map(({ target, measured, pass }) => [`  ${target}`, measured, pass ? "PASS" : "FAIL"]));
  console.log(
    `\nmachine: ${CORES} cores, load average ${loadavg().map((value) => value.toFixed(2)).join(" ")} (shared: compare ratios, not absolutes); ` +
      `wrk -t1 -c${settings.connections}, ${settings.durationS} s after ${settings.warmupS} s of warm-up`,
  );
}
