import { asc, eq, getTableColumns, sql } from "drizzle-orm";
import type { Database, Transaction } from "../db/client.js";
import { receiptEvents } from "../db/schema.js";
import { selectRows, textArray } from "../db/sql.js";
import type { TransferUpdate } from "./model.js";
import { correlate, type FoldableEvent, foldEvents } from "./receipt-fold.js";
import { WakeableLoop } from "./wakeable-loop.js";

// The raw payloads are the bulk of a row and folding never reads them.
const { raw: _raw, ...foldableColumns } = getTableColumns(receiptEvents);

/**
 * Folds up to `limit` appended events, oldest first, into statuses: correlates them, writes where
 * each points (or leaves it unmatched, to be attached when its message's provider id is
 * recorded), and moves statuses. Rows another applier holds are skipped, and transfer locks
 * serialize appliers that meet on one transfer, so no event is folded twice.
 */
export async function applyPendingEvents(tx: Transaction, limit: number, now = new Date()): Promise<{ applied: number; updates: TransferUpdate[] }> {
  const claimed = await tx
    .select(foldableColumns)
    .from(receiptEvents)
    .where(eq(receiptEvents.pending, true))
    .orderBy(asc(receiptEvents.id))
    .limit(limit)
    .for("update", { skipLocked: true });
  if (claimed.length === 0) return { applied: 0, updates: [] };
  const { lockedTransfers, transferMessages, targets } = await correlate(
    tx,
    claimed.map((row) => row.correlation ?? {}),
    now,
  );
  const folded: FoldableEvent[] = claimed.map((row, index) => {
    const { transfer, message } = targets[index] ?? {};
    return {
      ...row,
      tenantId: transfer?.tenantId ?? null,
      transferId: transfer?.id ?? null,
      messageId: message?.id ?? null,
      channel: row.channel ?? message?.channel ?? null,
      // A format that names no provider was stored under its door's name: the message knows better.
      provider: message && row.provider === row.source ? message.provider : row.provider,
      pending: false,
    };
  });
  const column = (pick: (row: FoldableEvent) => string | null) => textArray(folded.map(pick));
  const pointed = tx.execute(
    sql`UPDATE receipt_events AS target
        SET tenant_id = f.tenant_id, transfer_id = f.transfer_id, message_id = f.message_id, channel = f.channel, provider = f.provider, pending = false,
          visible_xid = (pg_current_xact_id()::text)::bigint
        FROM unnest(${column((row) => String(row.id))}::bigint[], ${column((row) => row.tenantId)}, ${column((row) => row.transferId)},
          ${column((row) => row.messageId)}, ${column((row) => row.channel)}, ${column((row) => row.provider)})
          AS f(id, tenant_id, transfer_id, message_id, channel, provider)
        WHERE target.id = f.id`,
  );
  // Pipelined with the fold's own writes.
  const [, updates] = await Promise.all([pointed, foldEvents(tx, lockedTransfers, transferMessages, folded, now)]);
  return { applied: claimed.length, updates };
}

export interface ReceiptBacklog {
  /** Acknowledged events not yet folded. */
  events: number;
  /** When the oldest of them was received; null when there are none. */
  oldestReceivedAt: Date | null;
}

/** The applier's backlog across every instance; `cap` bounds the count (the door only needs to know it passed a limit). */
export async function receiptBacklog(db: Database, cap?: number): Promise<ReceiptBacklog> {
  const pending = cap === undefined ? sql`receipt_events WHERE pending` : sql`(SELECT 1 FROM receipt_events WHERE pending LIMIT ${cap}) AS capped`;
  const [row] = await selectRows<{ events: string | number; oldest: string | Date | null }>(
    db,
    sql`SELECT (SELECT count(*) FROM ${pending}) AS events,
          (SELECT received_at FROM receipt_events WHERE pending ORDER BY id LIMIT 1) AS oldest`,
  );
  return { events: Number(row?.events ?? 0), oldestReceivedAt: row?.oldest ? new Date(row.oldest) : null };
}

export interface ReceiptApplierDeps {
  db: Database;
  publishUpdates(updates: TransferUpdate[]): void;
  onError(error: unknown): void;
  /** Events folded per transaction. */
  batchSize?: number;
  /** How often it looks for work nobody woke it for: other instances' appends, a dead process's leftovers. */
  pollMs?: number;
  /** The backlog beyond which the door refuses new work (answers 503). */
  backlogLimit: number;
  /** Told the backlog each time it is counted (once a second). */
  onCounted?(events: number): void;
}

/** What the rest of Ackline sees of an applier, whether it folds on this thread or another. */
export interface Applier {
  start(): void;
  /** Folds now, or right after the fold in progress. */
  wake(): void;
  /** Whether the door should refuse new work: more is waiting than the applier can be trusted to catch up on. */
  saturated(): boolean;
  stop(): Promise<void>;
}

/**
 * Folds the event log into statuses right after each append: the webhook door wakes it once a
 * batch is durable, and it publishes to subscribers after its own commit. It also polls, so
 * events appended elsewhere (or left by a process that died before folding them) are folded too.
 */
export class ReceiptApplier implements Applier {
  private readonly loop: WakeableLoop;
  /** The backlog as last counted (capped at the limit), once a second. */
  private counted = 0;
  private counting = false;
  private counter: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ReceiptApplierDeps) {
    this.loop = new WakeableLoop(() => this.drain(), { pollMs: deps.pollMs ?? 1000, onError: (error) => deps.onError(error) });
  }

  start(): void {
    // Counted apart from folding, so a fold that is stuck (a lock, a slow disk) still closes the door.
    this.counter = setInterval(() => void this.count(), 1000).unref();
    void this.count();
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    clearInterval(this.counter);
    await this.loop.stop();
  }

  saturated(): boolean {
    return this.counted >= this.deps.backlogLimit;
  }

  private async count(): Promise<void> {
    if (this.counting) return;
    this.counting = true;
    try {
      this.counted = (await receiptBacklog(this.deps.db, this.deps.backlogLimit)).events;
      this.deps.onCounted?.(this.counted);
    } catch (error) {
      this.deps.onError(error);
    } finally {
      this.counting = false;
    }
  }

  private async drain(): Promise<void> {
    const batchSize = this.deps.batchSize ?? 500;
    while (!this.loop.isStopped) {
      const { applied, updates } = await this.deps.db.transaction(async (tx) => {
        // The fold is derived from the durable log: a fold lost in a crash leaves its events pending,
        // and folding them again gives the same statuses. So it need not wait for its own fsync.
        const [, applied] = await Promise.all([tx.execute(sql`SET LOCAL synchronous_commit = off`), applyPendingEvents(tx, batchSize)]);
        return applied;
      });
      this.deps.publishUpdates(updates);
      if (applied < batchSize) return;
    }
  }
}
