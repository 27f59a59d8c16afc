import { createHmac } from "node:crypto";
import { open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { GENERIC_SECRET, log, onCleanup, type Seeded } from "./harness.js";

/** A message's life as its provider reports it: each round over the messages moves them one step, then taps. */
const LIFECYCLE = ["message.sent", "message.delivered", "message.read", "message.clicked"] as const;

export interface SignedWebhook {
  body: string;
  signature: string;
  timestampMs: number;
  /** Index of the targeted transfer in the factory's targets. */
  target: number;
}

/**
 * Distinct, validly signed `generic` webhooks: webhook i targets message i mod n (round i / n picks
 * the lifecycle step) and carries the provider timestamp base + i ms, so its deduplication key
 * (message id + event + timestamp) is new, the timestamp alone identifies it when it comes back
 * through a subscription, and the webhooks i..j stored are the rows with those timestamps.
 */
export class WebhookFactory {
  private sequence = 0;
  constructor(
    private readonly targets: ReadonlyArray<Seeded>,
    readonly baseMs: number,
  ) {}

  next(): SignedWebhook {
    const index = this.sequence++;
    const target = index % this.targets.length;
    const { providerMessageId, phone } = this.targets[target]!;
    const timestampMs = this.baseMs + index;
    const body = JSON.stringify({
      event: LIFECYCLE[Math.min(LIFECYCLE.length - 1, Math.floor(index / this.targets.length))],
      timestamp: new Date(timestampMs).toISOString(),
      message_id: providerMessageId,
      recipient: phone,
      channel: "rcs",
      carrier: "302720",
      metadata: { delivery_code: 200, region: "CA-ON" },
    });
    return { body, signature: createHmac("sha256", GENERIC_SECRET).update(body).digest("hex"), timestampMs, target };
  }
}

/** Webhooks written out for wrk to replay (`bench/wrk.lua`): line i is webhook i, provider time base + i ms. */
export interface ReplayFile {
  path: string;
  count: number;
  baseMs: number;
}

/** Writes `count` webhooks of a new factory over `targets`, one "signature<TAB>body" a line. */
export async function writeReplayFile(targets: ReadonlyArray<Seeded>, count: number, baseMs: number): Promise<ReplayFile> {
  const startedAt = performance.now();
  const file = path.join(tmpdir(), `ackline-bench-webhooks-${process.pid}.txt`);
  onCleanup("remove the replay file", () => rm(file, { force: true }));
  const factory = new WebhookFactory(targets, baseMs);
  const handle = await open(file, "w");
  try {
    const chunk = 10_000;
    for (let written = 0; written < count; written += chunk) {
      const lines = Array.from({ length: Math.min(chunk, count - written) }, () => {
        const webhook = factory.next();
        return `${webhook.signature}\t${webhook.body}\n`;
      });
      await handle.write(lines.join(""));
    }
  } finally {
    await handle.close();
  }
  log(`wrote ${count} signed webhooks over ${targets.length} transfers in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  return { path: file, count, baseMs };
}
