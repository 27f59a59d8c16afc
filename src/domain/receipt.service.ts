import { and, eq, isNull, lte, sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { receiptEvents, templates } from "../db/schema.js";
import { textArray } from "../db/sql.js";
import { GroupCommitter } from "./group-commit.js";
import type { TemplateUpdate } from "./model.js";
import { type AcceptedDelivery, appendEvents, type IncomingEvent, type StoreOutcome } from "./receipt-store.js";

/** A webhook delivery's events, with its log row; a replay has none (its events name the delivery already logged). */
export interface IncomingDelivery {
  log?: AcceptedDelivery;
  events: IncomingEvent[];
}

/**
 * The durable half of the webhook side-door: events are appended to the event log in
 * group-committed batches, each delivery's log row in the same statement, and each caller is
 * answered once its batch is durable. Folding them into statuses is the receipt applier's job,
 * woken after every commit.
 */
export class ReceiptService {
  private readonly committer: GroupCommitter<IncomingDelivery, StoreOutcome[]>;

  constructor(
    private readonly db: Database,
    private readonly options: { maxBatch: number; concurrency: number; onAppended(): void; observeBatch?: (size: number) => void },
  ) {
    this.committer = new GroupCommitter((deliveries) => this.appendBatch(deliveries), { ...options, sizeOf: (delivery) => Math.max(1, delivery.events.length) });
  }

  /** Appends a delivery's events (one outcome each) and logs it; nothing to write, no round trip. */
  async ingest(delivery: IncomingDelivery): Promise<StoreOutcome[]> {
    if (delivery.events.length === 0 && !delivery.log) return [];
    const [outcomes] = await this.committer.submit([delivery]);
    return outcomes!;
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

  /**
   * Events already stored but matched to no transfer (their correlation failed: the message was
   * unknown then), handed back to the applier to match again; only those through `tenantId`'s own
   * sources. Returns how many.
   */
  async requeueUnmatched(tenantId: string, dedupeKeys: string[]): Promise<number> {
    if (dedupeKeys.length === 0) return 0;
    const requeued = await this.db
      .update(receiptEvents)
      .set({ pending: true })
      .where(
        and(
          sql`${receiptEvents.dedupeKey} = ANY(${textArray(dedupeKeys)})`,
          isNull(receiptEvents.transferId),
          eq(receiptEvents.pending, false),
          sql`${receiptEvents.correlation}->>'tenantId' = ${tenantId}`,
        ),
      )
      .returning({ id: receiptEvents.id });
    if (requeued.length > 0) this.options.onAppended();
    return requeued.length;
  }

  private async appendBatch(deliveries: IncomingDelivery[]): Promise<StoreOutcome[][]> {
    const events = deliveries.flatMap((delivery) => delivery.events);
    const outcomes = await appendEvents(
      this.db,
      events,
      deliveries.flatMap((delivery) => (delivery.log ? [delivery.log] : [])),
    );
    this.options.observeBatch?.(events.length);
    if (events.length > 0) this.options.onAppended();
    let offset = 0;
    return deliveries.map((delivery) => outcomes.slice(offset, (offset += delivery.events.length)));
  }
}
