import type { Database } from "../db/client.js";
import { webhookDeliveries } from "../db/schema.js";
import { GroupCommitter } from "./group-commit.js";
import type { ReceivedDelivery, WebhookDeliveryRecord } from "./model.js";

/** What one refused delivery costs against the budget besides its body and URL: its row, reason and index entries. */
const ROW_OVERHEAD_BYTES = 1024;
/** Longest reason kept: some quote what was sent. */
const MAX_REASON_LENGTH = 1000;
const WINDOW_MS = 60_000;

/**
 * Refused deliveries, logged best effort and off the answer's path: batched in the background,
 * never awaited by the door, a failure only logged. They are unauthenticated input, so each
 * instance keeps at most `bytesPerMinute` of them (body, URL and a row's overhead): past it, a
 * refusal is answered as always and only counted, so a flood of bad deliveries fills the disk no
 * faster than that, whatever the number of addresses it comes from.
 */
export class RejectedDeliveryLog {
  private readonly committer: GroupCommitter<WebhookDeliveryRecord, undefined>;
  private window = { startedAt: 0, bytes: 0, dropped: 0 };

  constructor(
    db: Database,
    private readonly options: { bytesPerMinute: number; onError(error: unknown): void; onDropped(count: number): void },
  ) {
    this.committer = new GroupCommitter(
      async (rows) => {
        await db.insert(webhookDeliveries).values(rows);
        return rows.map(() => undefined);
      },
      { maxBatch: 100, concurrency: 1 },
    );
  }

  /** Never throws and never waits: the answer does not depend on it. */
  record(received: ReceivedDelivery, statusCode: number, reason: string, now = Date.now()): void {
    if (!this.withinBudget(received.body.length + received.request.url.length + ROW_OVERHEAD_BYTES, now)) return;
    const row: WebhookDeliveryRecord = { ...received, outcome: "REJECTED", statusCode, reason: reason.slice(0, MAX_REASON_LENGTH), eventCount: 0 };
    this.committer.submit([row]).catch((error: unknown) => this.options.onError(error));
  }

  private withinBudget(bytes: number, now: number): boolean {
    if (now - this.window.startedAt >= WINDOW_MS) {
      if (this.window.dropped > 0) this.options.onDropped(this.window.dropped);
      this.window = { startedAt: now, bytes: 0, dropped: 0 };
    }
    if (this.window.bytes + bytes > this.options.bytesPerMinute) {
      this.window.dropped += 1;
      return false;
    }
    this.window.bytes += bytes;
    return true;
  }
}
