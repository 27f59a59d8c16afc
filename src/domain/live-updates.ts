import type { TransferUpdate } from "./model.js";

/**
 * One connection's allowance for live updates received but not yet written to it. Past it the
 * connection is closed as too slow (its subscribers resume from their cursors), so one slow reader
 * never holds more than its allowance in memory, nor holds back anyone else's updates.
 */
export interface SendBudget {
  /** Counts `count` more updates waiting; false once the connection is past its allowance (it is being closed). */
  reserve(count: number): boolean;
  release(count: number): void;
}

export interface ListenOptions {
  /** Only this transfer's updates; every update of the tenant without it. */
  transferId?: string;
  budget?: SendBudget;
}

/**
 * Subscribes to a tenant's live updates at once (before the caller reads the database). It rejects
 * when live updates cannot be had; its `next` rejects once some may have been lost.
 */
export type ListenUpdates = (tenantId: string, options?: ListenOptions) => Promise<AsyncIterableIterator<TransferUpdate>>;
