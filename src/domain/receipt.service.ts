import { lte } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { templates } from "../db/schema.js";
import { GroupCommitter } from "./group-commit.js";
import type { TemplateUpdate } from "./model.js";
import { appendEvents, type IncomingEvent, type StoreOutcome } from "./receipt-store.js";

/**
 * The durable half of the webhook side-door: events are appended to the event log in
 * group-committed batches, and each caller is answered once its batch is durable. Folding them
 * into statuses is the receipt applier's job, woken after every commit.
 */
export class ReceiptService {
  private readonly committer: GroupCommitter<IncomingEvent, StoreOutcome>;

  constructor(
    private readonly db: Database,
    private readonly options: { maxBatch: number; concurrency: number; onAppended(): void; observeBatch?: (size: number) => void },
  ) {
    this.committer = new GroupCommitter((events) => this.appendBatch(events), options);
  }

  ingest(events: IncomingEvent[]): Promise<StoreOutcome[]> {
    return events.length === 0 ? Promise.resolve([]) : this.committer.submit(events);
  }

  /** Template approvals update the template, not a transfer; the newest provider time wins. */
  async recordTemplateUpdates(updates: TemplateUpdate[]): Promise<void> {
    for (const update of updates) {
      await this.db
        .insert(templates)
        .values(update)
        .onConflictDoUpdate({
          target: [templates.provider, templates.name],
          set: { status: update.status, comment: update.comment ?? null, occurredAt: update.occurredAt, raw: update.raw },
          setWhere: lte(templates.occurredAt, update.occurredAt),
        });
    }
  }

  private async appendBatch(events: IncomingEvent[]): Promise<StoreOutcome[]> {
    const outcomes = await appendEvents(this.db, events);
    this.options.observeBatch?.(events.length);
    this.options.onAppended();
    return outcomes;
  }
}
