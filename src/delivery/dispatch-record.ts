import { type SQL, sql } from "drizzle-orm";
import type { Database, Transaction } from "../db/client.js";
import { textArray, timestamp } from "../db/sql.js";
import { GroupCommitter } from "../domain/group-commit.js";
import type { DeliveryAttemptRecord, SuppressionRecord, TransferUpdate } from "../domain/model.js";
import { type IncomingEvent, type MessageDecisions, ownMessageEvent, recordMessageDecisions } from "../domain/receipt-store.js";
import type { Logger } from "../logger.js";
import type { SendOutcome } from "./adapter.js";
import type { ClaimedMessage } from "./dispatch-claim.js";

const MAX_BACKOFF_MS = 15 * 60_000;

/** Exponential backoff with jitter: about 1 s, 2 s, 4 s … capped at 15 minutes; `Retry-After` wins when later. */
export function retryDelayMs(attempt: number, retryAfterMs?: number, random = Math.random): number {
  const exponential = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (attempt - 1));
  const jittered = exponential * (0.5 + random());
  return Math.min(MAX_BACKOFF_MS, Math.max(jittered, retryAfterMs ?? 0));
}

/** How a claimed message's turn ended, and when. */
export type Decision = { message: ClaimedMessage; at: Date } & (
  | { kind: "sent"; provider: string; outcome: SendOutcome }
  /** A suppressed address is not a failure: the message becomes SUPPRESSED and nothing falls back. */
  | { kind: "suppressed"; provider: string; suppression: SuppressionRecord }
  /** The throttle put it back in the queue for later, the claim not counted as an attempt: pacing is not a failure. */
  | { kind: "putBack"; delayMs: number }
);

/** A message row's new dispatch state; null fields keep what the row has. */
interface MessageWrite {
  id: string;
  dispatchState: "pending" | "done";
  providerMessageId: string | null;
  nextAttemptAt: Date | null;
  lastError: string | null;
  keepLastError: boolean;
  status: "SUPPRESSED" | null;
  /** 1 when the claim is not counted as an attempt. */
  uncounted: number;
}

/** Every attempt is kept: when, through whom, how it ended, the provider's code. */
interface AttemptRow extends DeliveryAttemptRecord {
  tenantId: string;
}

interface Plan {
  write: MessageWrite;
  attempt?: AttemptRow;
  event?: IncomingEvent;
  providerMessageId?: string;
  /** Failed for good: its fallback (if its policy has one) is due at once. */
  failed?: boolean;
}

/** What one decision writes: the message row, its attempt, the event that records it. */
function planOf(decision: Decision, maxAttempts: number): Plan {
  const { message, at } = decision;
  const keep = { providerMessageId: null, nextAttemptAt: null, keepLastError: false, status: null, uncounted: 0 };
  if (decision.kind === "putBack") {
    const nextAttemptAt = new Date(at.getTime() + decision.delayMs);
    return { write: { ...keep, id: message.id, dispatchState: "pending", nextAttemptAt, lastError: null, keepLastError: true, uncounted: 1 } };
  }
  const attempt = { tenantId: message.tenantId, messageId: message.id, attempt: message.attempts, at, provider: decision.provider, code: null, retryAt: null };
  const own = (event: "SENT" | "FAILED" | "OPT_OUT", details: { metadata: Record<string, unknown>; dedupeKey?: string }) =>
    ownMessageEvent({ ...message, provider: decision.provider }, event, { occurredAt: at, ...details });
  if (decision.kind === "suppressed") {
    const { suppression } = decision;
    const reason = `${suppression.address} is suppressed for this tenant (${suppression.reason.toLowerCase().replace("_", "-")} since ${suppression.createdAt.toISOString()})`;
    return {
      write: { ...keep, id: message.id, dispatchState: "done", lastError: reason, status: "SUPPRESSED" },
      attempt: { ...attempt, outcome: "SUPPRESSED", error: reason },
      // Its history says why: an OPT_OUT event naming the suppression.
      event: own("OPT_OUT", { dedupeKey: `ackline:${message.id}:suppressed`, metadata: { suppressed: true, reason, suppression_reason: suppression.reason } }),
    };
  }
  const { outcome } = decision;
  const code = outcome.code ?? null;
  if (outcome.kind === "accepted") {
    const { providerMessageId } = outcome;
    return {
      write: { ...keep, id: message.id, dispatchState: "done", providerMessageId, lastError: null },
      attempt: { ...attempt, outcome: "ACCEPTED", code, error: null },
      // The transport's acceptance already means SENT (SMTP); otherwise a receipt will say so.
      event: outcome.sent ? own("SENT", { metadata: { provider_message_id: providerMessageId } }) : undefined,
      providerMessageId,
    };
  }
  if (outcome.kind === "transient" && message.attempts < maxAttempts) {
    const retryAt = new Date(at.getTime() + retryDelayMs(message.attempts, outcome.retryAfterMs));
    return {
      write: { ...keep, id: message.id, dispatchState: "pending", nextAttemptAt: retryAt, lastError: outcome.error },
      attempt: { ...attempt, outcome: "RETRY", code, error: outcome.error, retryAt },
    };
  }
  // Permanent, or out of attempts: the message fails.
  const notCapable = outcome.kind === "permanent" && Boolean(outcome.notCapable);
  return {
    write: { ...keep, id: message.id, dispatchState: "done", lastError: outcome.error },
    attempt: { ...attempt, outcome: "FAILED", code, error: outcome.error },
    event: own("FAILED", { metadata: { reason: outcome.error, code, attempts: message.attempts, not_capable: notCapable } }),
    failed: true,
  };
}

const column = <T>(rows: T[], pick: (row: T) => string | number | boolean | Date | null): SQL =>
  textArray(rows.map((row) => {
    const value = pick(row);
    return value === null ? null : value instanceof Date ? value.toISOString() : String(value);
  }));

/**
 * Every message row of the batch, and every attempt, in one statement: each lease ends, each
 * message takes its new state (null keeps the row's own), each attempt is kept.
 */
async function writeMessages(tx: Transaction, writes: MessageWrite[], attempts: AttemptRow[], now: Date): Promise<void> {
  await tx.execute(
    sql`WITH written AS (
          UPDATE messages AS target
          SET dispatch_state = w.dispatch_state, lease_until = NULL,
            provider_message_id = coalesce(w.provider_message_id, target.provider_message_id),
            next_attempt_at = coalesce(w.next_attempt_at, target.next_attempt_at),
            last_error = CASE WHEN w.keep_last_error THEN target.last_error ELSE w.last_error END,
            status = coalesce(w.status, target.status),
            attempts = target.attempts - w.uncounted,
            updated_at = ${timestamp(now)}
          FROM unnest(${column(writes, (w) => w.id)}, ${column(writes, (w) => w.dispatchState)}, ${column(writes, (w) => w.providerMessageId)},
            ${column(writes, (w) => w.nextAttemptAt)}::timestamptz[], ${column(writes, (w) => w.lastError)}, ${column(writes, (w) => w.keepLastError)}::boolean[],
            ${column(writes, (w) => w.status)}, ${column(writes, (w) => w.uncounted)}::int[])
            AS w(id, dispatch_state, provider_message_id, next_attempt_at, last_error, keep_last_error, status, uncounted)
          WHERE target.id = w.id)
        INSERT INTO delivery_attempts (tenant_id, message_id, attempt, at, provider, outcome, code, error, retry_at)
        SELECT * FROM unnest(${column(attempts, (a) => a.tenantId)}, ${column(attempts, (a) => a.messageId)}, ${column(attempts, (a) => a.attempt)}::int[],
          ${column(attempts, (a) => a.at)}::timestamptz[], ${column(attempts, (a) => a.provider)}, ${column(attempts, (a) => a.outcome)},
          ${column(attempts, (a) => a.code)}::int[], ${column(attempts, (a) => a.error)}, ${column(attempts, (a) => a.retryAt)}::timestamptz[])`,
  );
}

export interface DecisionRecorderDeps {
  db: Database;
  maxAttempts: number;
  log: Logger;
  publishUpdates(updates: TransferUpdate[]): void;
  /** Some message failed for good: its fallback is due now. */
  onFailed(): void;
  /** Decisions per transaction at most. */
  maxBatch: number;
}

/**
 * Records the decisions of sends as they finish, many per transaction: those that finish while a
 * batch commits go together in the next (one statement per table, whatever their number), and
 * each caller is answered once its decision is durable. Subscribers hear after the commit.
 */
export class DecisionRecorder {
  private readonly batches: GroupCommitter<Decision, void>;

  constructor(private readonly deps: DecisionRecorderDeps) {
    this.batches = new GroupCommitter((decisions) => this.commit(decisions), { maxBatch: deps.maxBatch, concurrency: 2 });
  }

  async record(decision: Decision): Promise<void> {
    await this.batches.submit([decision]);
  }

  private async commit(decisions: Decision[]): Promise<void[]> {
    const now = new Date();
    const plans = decisions.map((decision) => planOf(decision, this.deps.maxAttempts));
    const accepted = plans.flatMap(({ write, providerMessageId }) => (providerMessageId ? [{ messageId: write.id, providerMessageId }] : []));
    const batch: MessageDecisions = {
      // Every message row is written under its transfer's lock, as every status change is, so this never deadlocks with an ingest batch.
      transferIds: decisions.map((decision) => decision.message.transferId),
      accepted,
      events: plans.flatMap((plan) => (plan.event ? [plan.event] : [])),
    };
    const writes = plans.map((plan) => plan.write);
    const attempts = plans.flatMap((plan) => (plan.attempt ? [plan.attempt] : []));
    const updates = await this.deps.db.transaction((tx) => recordMessageDecisions(tx, batch, () => writeMessages(tx, writes, attempts, now), now));
    for (const { attempt } of plans) {
      if (attempt?.outcome === "RETRY") {
        this.deps.log.warn({ messageId: attempt.messageId, attempt: attempt.attempt, retryAt: attempt.retryAt, error: attempt.error }, "send failed, will retry");
      }
    }
    this.deps.publishUpdates(updates);
    if (plans.some((plan) => plan.failed)) this.deps.onFailed();
    return decisions.map(() => undefined);
  }
}
