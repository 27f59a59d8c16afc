import { lte } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { templates } from "../db/schema.js";
import type { EventPublisher } from "../pubsub/pubsub.js";
import { GroupCommitter } from "./group-commit.js";
import type { TemplateUpdate } from "./model.js";
import { type IncomingEvent, type StoreOutcome, storeEvents } from "./receipt-store.js";

/**
 * The durable half of the webhook side-door: events are stored in group-committed transactions,
 * callers are answered once their batch is durable, and subscribers hear of it after commit.
 */
export class ReceiptService {
  private readonly committer: GroupCommitter<IncomingEvent, StoreOutcome>;

  constructor(
    private readonly db: Database,
    private readonly publisher: EventPublisher,
    private readonly options: { maxBatch: number; concurrency: number; observeBatch?: (size: number) => void },
  ) {
    this.committer = new GroupCommitter((events) => this.storeBatch(events), options);
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

  private async storeBatch(events: IncomingEvent[]): Promise<StoreOutcome[]> {
    const { outcomes, updates } = await this.db.transaction((tx) => storeEvents(tx, events));
    this.options.observeBatch?.(events.length);
    this.publisher.publishUpdates(updates);
    return outcomes;
  }
}
