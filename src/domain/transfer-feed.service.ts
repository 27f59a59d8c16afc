import { and, asc, eq, gt } from "drizzle-orm";
import type { Principal } from "../auth/access-tokens.js";
import type { Database } from "../db/client.js";
import { receiptEvents } from "../db/schema.js";
import { DomainError } from "./errors.js";
import type { ListenUpdates, SendBudget } from "./live-updates.js";
import type { TransferUpdate, TransferView } from "./model.js";
import { encodeEventCursor } from "./receipt-event-cursor.js";
import { loadTransferViews, toEventRecord } from "./receipt-store.js";
import { decodeTransferCursor, encodeTransferCursor } from "./transfer-cursor.js";

export interface TransferFeedDeps {
  db: Database;
  listen: ListenUpdates;
}

/**
 * `transferUpdated`: a transfer's updates, live, resumable from the event log. Every event folded
 * into a transfer has the next sequence number of that transfer; a subscriber's cursor is the last
 * one it received, so it can be given exactly what follows — from the database, then live.
 */
export class TransferFeedService {
  constructor(private readonly deps: TransferFeedDeps) {}

  /**
   * Without `after`: the transfer's current state (event null), then every update. With `after`:
   * every update after that cursor from the database, in order, then live, with no gap and no
   * repeat. When live updates cannot be guaranteed (the pubsub is down, or its connection dropped)
   * it ends with SUBSCRIPTION_INTERRUPTED carrying the cursor to resume from. An unknown or foreign
   * id is NOT_FOUND; a malformed cursor, or another transfer's, BAD_USER_INPUT.
   */
  async watch(principal: Principal, id: string, after?: string | null, budget?: SendBudget): Promise<AsyncIterable<TransferUpdate>> {
    const resumeAfter = after === undefined || after === null ? undefined : decodeTransferCursor(id, after);
    // Listening starts before the database is read, so nothing committed meanwhile falls in between.
    const live = await this.deps.listen(principal.tenantId, { transferId: id, budget }).catch(() => undefined);
    let current: TransferView;
    try {
      // Its messages are read after its row: the state shown is never older than the sequence number it stands at.
      const [view] = await loadTransferViews(this.deps.db, [id]);
      if (!view || view.tenantId !== principal.tenantId) throw new DomainError("NOT_FOUND", `transfer ${id} not found`);
      if (resumeAfter !== undefined && resumeAfter > view.eventSeq) {
        throw new DomainError("BAD_USER_INPUT", `after is ahead of transfer ${id}'s updates`, { field: "after" });
      }
      current = view;
    } catch (error) {
      await live?.return?.();
      throw error;
    }
    const replay = (position: number) => this.replay(principal, id, position);
    return (async function* () {
      let position = resumeAfter ?? current.eventSeq;
      try {
        if (resumeAfter === undefined) yield { transfer: current, event: null };
        else {
          for (const update of await replay(position)) {
            yield update;
            position = update.event!.seq!;
          }
        }
        if (!live) throw interrupted(id, position, "live updates are unavailable");
        for (;;) {
          let next: IteratorResult<TransferUpdate>;
          try {
            next = await live.next();
          } catch (error) {
            throw interrupted(id, position, (error as Error).message);
          }
          if (next.done) return;
          const seq = next.value.event?.seq;
          if (!seq || seq <= position) continue;
          // Ahead of what follows: one was lost or overtaken on the way (publishes race after commit). The log has both.
          const missed = seq === position + 1 ? [next.value] : await replay(position);
          for (const update of missed) {
            yield update;
            position = update.event!.seq!;
          }
        }
      } finally {
        await live?.return?.();
      }
    })();
  }

  /** Every update after `position`, from the log, in order, each with the transfer as it now stands. */
  private async replay(principal: Principal, id: string, position: number): Promise<TransferUpdate[]> {
    const rows = await this.deps.db
      .select()
      .from(receiptEvents)
      .where(and(eq(receiptEvents.tenantId, principal.tenantId), eq(receiptEvents.transferId, id), gt(receiptEvents.seq, position)))
      .orderBy(asc(receiptEvents.seq));
    if (rows.length === 0) return [];
    const [transfer] = await loadTransferViews(this.deps.db, [id]);
    return rows.map((row) => ({ transfer: transfer!, event: toEventRecord(row, encodeEventCursor(row)) }));
  }
}

function interrupted(transferId: string, position: number, reason: string): DomainError {
  const cursor = encodeTransferCursor(transferId, position);
  return new DomainError("SUBSCRIPTION_INTERRUPTED", `updates may have been lost (${reason}): subscribe again with after: "${cursor}"`, { cursor });
}
