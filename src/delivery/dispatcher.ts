import { ne, sql } from "drizzle-orm";
import type { SigningKeys } from "../auth/signing-keys.js";
import type { Database } from "../db/client.js";
import { messages } from "../db/schema.js";
import { policyOf } from "../domain/delivery-policy.js";
import { sendDueFallbacks } from "../domain/fallback.js";
import type { Channel, TransferUpdate } from "../domain/model.js";
import { WakeableLoop } from "../domain/wakeable-loop.js";
import { linkExpiresAt } from "../domain/transfer-security.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { DeliveryAdapter, SendOutcome } from "./adapter.js";
import { type ClaimedMessage, type ClaimedSend, claimDue } from "./dispatch-claim.js";
import { type Decision, DecisionRecorder } from "./dispatch-record.js";
import type { SendThrottle } from "./throttle.js";

export { retryDelayMs } from "./dispatch-record.js";

/** Sends in flight at once per worker; more are claimed whenever half of them have finished. */
const MAX_IN_FLIGHT = 25;
/** Messages claimed and not yet recorded, at most: sent ones wait for the next batch to commit. */
const MAX_UNRECORDED = 8 * MAX_IN_FLIGHT;
const NUDGED = Symbol("nudged");
/** How long an email's unsubscribe link works: long after the transfer, as mail lingers. */
const UNSUBSCRIBE_LINK_MS = 365 * 24 * 3600 * 1000;
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

/**
 * Sends queued messages. Work lives in the messages table (pending → sending under a lease →
 * done), claimed with `FOR UPDATE SKIP LOCKED`, so it survives crashes, runs on PostgreSQL and
 * PGlite alike, and several workers never claim the same message. A send repeated after a lapsed
 * lease carries the same client message id, which the provider drops.
 */
export class Dispatcher {
  private readonly loop: WakeableLoop;
  private readonly recorder: DecisionRecorder;
  /** Set while a pass waits on sends in flight. */
  private nudge: (() => void) | undefined;
  /** A wake came during the pass: there may be new work, even if the last claim found none. */
  private woken = false;

  constructor(private readonly deps: DispatcherDeps) {
    this.recorder = new DecisionRecorder({
      db: deps.db,
      maxAttempts: deps.maxAttempts,
      log: deps.log,
      publishUpdates: (updates) => deps.publishUpdates(updates),
      onFailed: () => this.wake(),
      maxBatch: MAX_UNRECORDED / 2,
    });
    this.loop = new WakeableLoop(() => this.pass(), {
      pollMs: deps.pollMs ?? 500,
      onError: (error) => deps.log.error({ err: error }, "dispatch pass failed"),
      // A pass waiting on slow sends claims more at once (or right after the claim it is making).
      onWakeWhileRunning: () => {
        this.woken = true;
        this.nudge?.();
      },
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
    // (a wake, or the poll interval passing) is claimed while it is still out. A slot is free once
    // the provider has answered; its decision is then recorded with those finishing beside it.
    const sending = new Set<Promise<void>>();
    const recording = new Set<Promise<void>>();
    const track = (set: Set<Promise<void>>, messageId: string, work: Promise<void>) => {
      const tracked: Promise<void> = work
        // A failed delivery (the database gone, say) leaves the message leased: it is claimed again once the lease lapses.
        .catch((error: unknown) => this.deps.log.error({ err: error, messageId }, "delivery failed; retried after the lease"))
        .finally(() => set.delete(tracked));
      set.add(tracked);
    };
    const record = (decision: Decision) => track(recording, decision.message.id, this.recorder.record(decision));
    let drained = false;
    while (!this.loop.isStopped) {
      if (this.woken) {
        this.woken = false;
        drained = false;
      }
      const room = Math.min(MAX_IN_FLIGHT - sending.size, MAX_UNRECORDED - sending.size - recording.size);
      if (!drained && room >= MAX_IN_FLIGHT / 2) {
        const claimed = await claimDue(db, room, this.deps.leaseMs);
        drained = claimed.length < room;
        for (const claim of claimed) track(sending, claim.message.id, this.decide(claim).then(record));
      }
      if (sending.size + recording.size === 0) return;
      const nudged = this.nextNudge();
      const nudge = await Promise.race([...sending, ...recording, nudged.promise]);
      nudged.cancel();
      if (nudge === NUDGED) drained = false;
    }
    await Promise.all(sending);
    await Promise.all(recording);
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

  /**
   * One send, unless there is nothing left to send to (revoked, expired, suppressed, not
   * RCS-capable by the provider's own query) or the throttle puts it back in the queue.
   */
  private async decide({ message, transfer, suppression }: ClaimedSend): Promise<Decision> {
    const { metrics } = this.deps;
    const { provider } = this.deps.adapters[message.channel];
    if (suppression) {
      metrics.dispatchAttempts.inc({ channel: message.channel, provider, outcome: "suppressed" });
      return { kind: "suppressed", message, provider, suppression, at: new Date() };
    }
    const outcome = await this.attempt(message, transfer);
    if ("deferMs" in outcome) {
      metrics.dispatchThrottled.inc({ provider });
      return { kind: "putBack", message, delayMs: outcome.deferMs, at: new Date() };
    }
    metrics.dispatchAttempts.inc({ channel: message.channel, provider, outcome: outcome.kind });
    return { kind: "sent", message, provider, outcome, at: new Date() };
  }

  private async attempt(message: ClaimedMessage, transfer: ClaimedSend["transfer"]): Promise<SendOutcome | { deferMs: number }> {
    if (transfer.revokedAt || transfer.expiresAt.getTime() <= Date.now()) {
      return { kind: "permanent", error: transfer.revokedAt ? "transfer revoked before sending" : "transfer expired before sending" };
    }
    const adapter = this.deps.adapters[message.channel];
    const policy = policyOf(transfer.deliveryPolicy);
    if (message.channel === "RCS" && policy.checkRcsCapability && transfer.recipientPhone && adapter.rcsCapable) {
      if ((await adapter.rcsCapable(transfer.recipientPhone)) === false) {
        return { kind: "permanent", error: "not RCS-capable (the provider's capability query)", notCapable: true };
      }
    }
    const pace = (await this.deps.throttle?.reserve(adapter.provider, message.channel)) ?? { waitMs: 0 };
    if ("deferMs" in pace) return pace;
    if (pace.waitMs > 0) {
      this.deps.metrics.dispatchThrottled.inc({ provider: adapter.provider });
      await sleep(pace.waitMs);
    }
    const { signingKeys, publicBaseUrl } = this.deps;
    // A short link bound to this message and channel, working for the transfer's link TTL from now.
    const expiresAt = linkExpiresAt(transfer, new Date());
    const code = signingKeys.linkCodes.issue({ messageId: message.id, transferId: transfer.id, channel: message.channel }, expiresAt);
    const link = `${publicBaseUrl()}/d/${code}`;
    const unsubscribeUrl =
      message.channel === "EMAIL"
        ? `${publicBaseUrl()}/u/${message.id}?tok=${await signingKeys.signLinkToken(message.id, new Date(Date.now() + UNSUBSCRIBE_LINK_MS), "unsubscribe")}`
        : undefined;
    return adapter.send({ message, transfer, link, linkExpiresAt: expiresAt, unsubscribeUrl }).catch((error: unknown) => ({
      kind: "transient" as const,
      error: `adapter error: ${(error as Error).message}`,
    }));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
