import { and, asc, eq, inArray, lte, lt, ne, or, sql } from "drizzle-orm";
import type { SigningKeys } from "../auth/signing-keys.js";
import type { Database, Transaction } from "../db/client.js";
import { deliveryAttempts, messages, transfers } from "../db/schema.js";
import { policyOf } from "../domain/delivery-policy.js";
import { sendDueFallbacks } from "../domain/fallback.js";
import type { Channel, SuppressionRecord, TransferUpdate } from "../domain/model.js";
import { ownMessageEvent, recordProviderMessageId, storeEvents } from "../domain/receipt-store.js";
import { suppressionFor } from "../domain/suppression.service.js";
import { WakeableLoop } from "../domain/wakeable-loop.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { DeliveryAdapter, SendOutcome } from "./adapter.js";
import type { SendThrottle } from "./throttle.js";

/** Sends in flight at once per worker; more are claimed whenever half of them have finished. */
const MAX_IN_FLIGHT = 25;
const NUDGED = Symbol("nudged");
/** How long an email's unsubscribe link works: long after the transfer, as mail lingers. */
const UNSUBSCRIBE_LINK_MS = 365 * 24 * 3600 * 1000;
const MAX_BACKOFF_MS = 15 * 60_000;

/** Exponential backoff with jitter: about 1 s, 2 s, 4 s … capped at 15 minutes; `Retry-After` wins when later. */
export function retryDelayMs(attempt: number, retryAfterMs?: number, random = Math.random): number {
  const exponential = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (attempt - 1));
  const jittered = exponential * (0.5 + random());
  return Math.min(MAX_BACKOFF_MS, Math.max(jittered, retryAfterMs ?? 0));
}

/** The queue's depth by channel: messages not yet handed to a provider (for the backlog metric). */
export async function dispatchBacklog(db: Database): Promise<Array<{ channel: string; waiting: number }>> {
  return db
    .select({ channel: messages.channel, waiting: sql<number>`count(*)::int` })
    .from(messages)
    .where(ne(messages.dispatchState, "done"))
    .groupBy(messages.channel);
}

export interface DispatcherDeps {
  db: Database;
  adapters: Record<Channel, DeliveryAdapter>;
  signingKeys: SigningKeys;
  publicBaseUrl: () => string;
  publishUpdates(updates: TransferUpdate[]): void;
  log: Logger;
  metrics: Metrics;
  maxAttempts: number;
  leaseMs: number;
  /** Paces sends per provider; absent: unpaced. */
  throttle?: SendThrottle;
  pollMs?: number;
}

/** Every attempt is kept: when, through whom, how it ended, the provider's code. */
function insertAttempt(
  tx: Transaction,
  message: ClaimedMessage,
  attempt: Pick<typeof deliveryAttempts.$inferInsert, "at" | "provider" | "outcome" | "code" | "error" | "retryAt">,
) {
  return tx.insert(deliveryAttempts).values({ tenantId: message.tenantId, messageId: message.id, attempt: message.attempts, ...attempt });
}

type ClaimedMessage = { id: string; tenantId: string; transferId: string; channel: Channel; clientMessageId: string; attempts: number };

/**
 * Sends queued messages. Work lives in the messages table (pending → sending under a lease →
 * done), claimed with `FOR UPDATE SKIP LOCKED`, so it survives crashes, runs on PostgreSQL and
 * PGlite alike, and several workers never claim the same message. A send repeated after a lapsed
 * lease carries the same client message id, which the provider drops.
 */
export class Dispatcher {
  private readonly loop: WakeableLoop;
  /** Set while a pass waits on sends in flight. */
  private nudge: (() => void) | undefined;

  constructor(private readonly deps: DispatcherDeps) {
    this.loop = new WakeableLoop(() => this.pass(), {
      pollMs: deps.pollMs ?? 500,
      onError: (error) => deps.log.error({ err: error }, "dispatch pass failed"),
      // A pass waiting on slow sends claims more at once.
      onWakeWhileRunning: () => this.nudge?.(),
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Runs a pass now (or right after the current one), and lets a pass waiting on slow sends claim more. */
  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  private async pass(): Promise<void> {
    const { adapters, db } = this.deps;
    const fallbacks = await sendDueFallbacks(db, (channel) => adapters[channel].provider);
    this.deps.publishUpdates(fallbacks);
    // A slow send holds only its own slot: the others are refilled as they finish, and new work
    // (a wake, or the poll interval passing) is claimed while it is still out.
    const inFlight = new Set<Promise<void>>();
    let drained = false;
    while (!this.loop.isStopped) {
      const room = MAX_IN_FLIGHT - inFlight.size;
      if (!drained && room >= MAX_IN_FLIGHT / 2) {
        const claimed = await this.claim(room);
        drained = claimed.length < room;
        for (const message of claimed) {
          // A failed delivery (the database gone, say) leaves the message leased: it is claimed again once the lease lapses.
          const sending: Promise<void> = this.deliver(message)
            .catch((error: unknown) => this.deps.log.error({ err: error, messageId: message.id }, "delivery failed; retried after the lease"))
            .finally(() => inFlight.delete(sending));
          inFlight.add(sending);
        }
      }
      if (inFlight.size === 0) return;
      const nudged = this.nextNudge();
      const nudge = await Promise.race([...inFlight, nudged.promise]);
      nudged.cancel();
      if (nudge === NUDGED) drained = false;
    }
    await Promise.all(inFlight);
  }

  /** Resolves with NUDGED on the next wake, or once the poll interval has passed. */
  private nextNudge(): { promise: Promise<typeof NUDGED>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    const promise = new Promise<typeof NUDGED>((resolve) => {
      this.nudge = () => resolve(NUDGED);
      timer = setTimeout(this.nudge, this.deps.pollMs ?? 500);
    });
    return {
      promise,
      cancel: () => {
        clearTimeout(timer);
        this.nudge = undefined;
      },
    };
  }

  private async claim(limit: number): Promise<ClaimedMessage[]> {
    const now = new Date();
    const due = this.deps.db
      .select({ id: messages.id })
      .from(messages)
      .where(
        or(
          and(eq(messages.dispatchState, "pending"), lte(messages.nextAttemptAt, now)),
          and(eq(messages.dispatchState, "sending"), lt(messages.leaseUntil, now)),
        ),
      )
      .orderBy(asc(messages.nextAttemptAt))
      .limit(limit)
      .for("update", { skipLocked: true });
    return this.deps.db
      .update(messages)
      .set({
        dispatchState: "sending",
        leaseUntil: new Date(now.getTime() + this.deps.leaseMs),
        attempts: sql`${messages.attempts} + 1`,
        updatedAt: now,
      })
      .where(inArray(messages.id, due))
      .returning({
        id: messages.id,
        tenantId: messages.tenantId,
        transferId: messages.transferId,
        channel: messages.channel,
        clientMessageId: messages.clientMessageId,
        attempts: messages.attempts,
      });
  }

  private async deliver(message: ClaimedMessage): Promise<void> {
    const { adapters, db, metrics } = this.deps;
    const [transfer] = await db.select().from(transfers).where(eq(transfers.id, message.transferId));
    if (!transfer) return;
    const adapter = adapters[message.channel];
    const suppression = await suppressionFor(db, message.tenantId, message.channel, transfer);
    if (suppression) {
      metrics.dispatchAttempts.inc({ channel: message.channel, provider: adapter.provider, outcome: "suppressed" });
      this.deps.publishUpdates(await this.recordSuppressed(message, adapter.provider, suppression));
      return;
    }
    const outcome = await this.attempt(message, transfer, adapter);
    if (!outcome) return;
    metrics.dispatchAttempts.inc({ channel: message.channel, provider: adapter.provider, outcome: outcome.kind });
    const updates = await this.record(message, adapter.provider, outcome);
    this.deps.publishUpdates(updates);
  }

  /**
   * One send, unless there is nothing left to send to (revoked, expired, not RCS-capable by the
   * provider's own query); undefined when the throttle put it back in the queue.
   */
  private async attempt(message: ClaimedMessage, transfer: typeof transfers.$inferSelect, adapter: DeliveryAdapter): Promise<SendOutcome | undefined> {
    if (transfer.revokedAt || transfer.expiresAt.getTime() <= Date.now()) {
      return { kind: "permanent", error: transfer.revokedAt ? "transfer revoked before sending" : "transfer expired before sending" };
    }
    const policy = policyOf(transfer.deliveryPolicy);
    if (message.channel === "RCS" && policy.checkRcsCapability && transfer.recipientPhone && adapter.rcsCapable) {
      if ((await adapter.rcsCapable(transfer.recipientPhone)) === false) {
        return { kind: "permanent", error: "not RCS-capable (the provider's capability query)", notCapable: true };
      }
    }
    const pace = (await this.deps.throttle?.reserve(adapter.provider, message.channel)) ?? { waitMs: 0 };
    if ("deferMs" in pace) {
      await this.putBack(message, pace.deferMs);
      return undefined;
    }
    if (pace.waitMs > 0) {
      this.deps.metrics.dispatchThrottled.inc({ provider: adapter.provider });
      await sleep(pace.waitMs);
    }
    const { signingKeys, publicBaseUrl } = this.deps;
    const link = `${publicBaseUrl()}/t/${transfer.id}?tok=${await signingKeys.signLinkToken(transfer.id, transfer.expiresAt)}`;
    const unsubscribeUrl =
      message.channel === "EMAIL"
        ? `${publicBaseUrl()}/u/${message.id}?tok=${await signingKeys.signLinkToken(message.id, new Date(Date.now() + UNSUBSCRIBE_LINK_MS), "unsubscribe")}`
        : undefined;
    return adapter.send({ message, transfer, link, unsubscribeUrl }).catch((error: unknown) => ({
      kind: "transient" as const,
      error: `adapter error: ${(error as Error).message}`,
    }));
  }

  /** Back to the queue for later, the claim not counted as an attempt: pacing is not a failure. */
  private async putBack(message: ClaimedMessage, delayMs: number): Promise<void> {
    const now = new Date();
    this.deps.metrics.dispatchThrottled.inc({ provider: this.deps.adapters[message.channel].provider });
    await this.deps.db
      .update(messages)
      .set({ dispatchState: "pending", nextAttemptAt: new Date(now.getTime() + delayMs), leaseUntil: null, attempts: sql`${messages.attempts} - 1`, updatedAt: now })
      .where(eq(messages.id, message.id));
  }

  /**
   * A suppressed address is not a failure: the message becomes SUPPRESSED, nothing falls back,
   * and its history says why (an OPT_OUT event naming the suppression).
   */
  private async recordSuppressed(message: ClaimedMessage, provider: string, suppression: SuppressionRecord): Promise<TransferUpdate[]> {
    const now = new Date();
    const reason = `${suppression.address} is suppressed for this tenant (${suppression.reason.toLowerCase().replace("_", "-")} since ${suppression.createdAt.toISOString()})`;
    return this.deps.db.transaction(async (tx) => {
      await tx.select({ id: transfers.id }).from(transfers).where(eq(transfers.id, message.transferId)).for("update");
      await tx
        .update(messages)
        .set({ status: "SUPPRESSED", dispatchState: "done", leaseUntil: null, lastError: reason, updatedAt: now })
        .where(eq(messages.id, message.id));
      await insertAttempt(tx, message, { at: now, provider, outcome: "SUPPRESSED", error: reason });
      const event = ownMessageEvent({ ...message, provider }, "OPT_OUT", {
        occurredAt: now,
        dedupeKey: `ackline:${message.id}:suppressed`,
        metadata: { suppressed: true, reason, suppression_reason: suppression.reason },
      });
      return (await storeEvents(tx, [event], now)).updates;
    });
  }

  private async record(message: ClaimedMessage, provider: string, outcome: SendOutcome): Promise<TransferUpdate[]> {
    const now = new Date();
    const decision = (event: "SENT" | "FAILED", metadata: Record<string, unknown>) => ownMessageEvent({ ...message, provider }, event, { occurredAt: now, metadata });

    const retry = outcome.kind === "transient" && message.attempts < this.deps.maxAttempts;
    const retryAt = retry ? new Date(now.getTime() + retryDelayMs(message.attempts, outcome.retryAfterMs)) : null;
    const attempt = (tx: Transaction) =>
      insertAttempt(tx, message, {
        at: now,
        provider,
        outcome: outcome.kind === "accepted" ? "ACCEPTED" : retry ? "RETRY" : "FAILED",
        code: outcome.code ?? null,
        error: outcome.kind === "accepted" ? null : outcome.error,
        retryAt,
      });

    if (outcome.kind === "accepted") {
      return this.deps.db.transaction(async (tx) => {
        const updates = await recordProviderMessageId(tx, message, outcome.providerMessageId, now);
        await attempt(tx);
        if (!outcome.sent) return updates;
        const sent = await storeEvents(tx, [decision("SENT", { provider_message_id: outcome.providerMessageId })], now);
        return [...updates, ...sent.updates];
      });
    }

    if (retry) {
      await this.deps.db.transaction(async (tx) => {
        await tx
          .update(messages)
          .set({ dispatchState: "pending", nextAttemptAt: retryAt!, leaseUntil: null, lastError: outcome.error, updatedAt: now })
          .where(eq(messages.id, message.id));
        await attempt(tx);
      });
      this.deps.log.warn({ messageId: message.id, attempt: message.attempts, retryAt, error: outcome.error }, "send failed, will retry");
      return [];
    }

    // Permanent, or out of attempts: the message fails, and its fallback (if its policy has one) is due at once.
    const updates = await this.deps.db.transaction(async (tx) => {
      // Transfer first, as every status change does, so this never deadlocks with an ingest batch.
      await tx.select({ id: transfers.id }).from(transfers).where(eq(transfers.id, message.transferId)).for("update");
      await tx
        .update(messages)
        .set({ dispatchState: "done", leaseUntil: null, lastError: outcome.error, updatedAt: now })
        .where(eq(messages.id, message.id));
      await attempt(tx);
      const failed = decision("FAILED", { reason: outcome.error, code: outcome.code ?? null, attempts: message.attempts, not_capable: outcome.kind === "permanent" && Boolean(outcome.notCapable) });
      return (await storeEvents(tx, [failed], now)).updates;
    });
    this.wake();
    return updates;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
