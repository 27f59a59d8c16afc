import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  webhookRequests: Counter<"provider" | "status">;
  webhookDeliveries: Counter<"provider" | "outcome">;
  webhookVerificationFailures: Counter<"provider">;
  webhookDuplicateEvents: Counter<"provider">;
  webhookProcessingSeconds: Histogram<"provider">;
  dispatchAttempts: Counter<"channel" | "provider" | "outcome">;
  dispatchThrottled: Counter<"provider">;
  ingestBatchSize: Histogram;
}

/** Messages waiting to be sent, by channel, read from the queue itself when scraped. */
export function registerDispatchBacklog(metrics: Metrics, backlog: () => Promise<Array<{ channel: string; waiting: number }>>): void {
  new Gauge({
    name: "ackline_dispatch_backlog_messages",
    help: "Messages queued or being sent, not yet handed to a provider",
    labelNames: ["channel"],
    registers: [metrics.registry],
    async collect() {
      this.reset();
      for (const { channel, waiting } of await backlog()) this.set({ channel }, waiting);
    },
  });
}

/** Seconds since the oldest of them arrived (0 with none waiting). */
export function backlogAgeSeconds(oldestReceivedAt: Date | null, now = Date.now()): number {
  return oldestReceivedAt ? Math.max(0, (now - oldestReceivedAt.getTime()) / 1000) : 0;
}

/** The receipt applier's lag, read from the event log itself when scraped (every instance's appends count). */
export function registerReceiptBacklog(metrics: Metrics, backlog: () => Promise<{ events: number; oldestReceivedAt: Date | null }>): void {
  // One query serves both gauges of a scrape.
  let scrape: Promise<{ events: number; oldestReceivedAt: Date | null }> | undefined;
  const read = () => (scrape ??= backlog().finally(() => setImmediate(() => (scrape = undefined))));
  new Gauge({
    name: "ackline_receipt_backlog_events",
    help: "Acknowledged webhook events appended to the event log and not yet folded into statuses",
    registers: [metrics.registry],
    async collect() {
      this.set((await read()).events);
    },
  });
  new Gauge({
    name: "ackline_receipt_backlog_oldest_seconds",
    help: "Age of the oldest acknowledged event not yet folded (0 when none waits)",
    registers: [metrics.registry],
    async collect() {
      this.set(backlogAgeSeconds((await read()).oldestReceivedAt));
    },
  });
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    webhookRequests: new Counter({
      name: "ackline_webhook_requests_total",
      help: "Webhook deliveries by provider and HTTP status",
      labelNames: ["provider", "status"],
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: "ackline_webhook_deliveries_total",
      help: "Webhook deliveries by provider and outcome: accepted (something new stored), duplicate (nothing new), rejected (4xx), unavailable (503)",
      labelNames: ["provider", "outcome"],
      registers: [registry],
    }),
    webhookVerificationFailures: new Counter({
      name: "ackline_webhook_verification_failures_total",
      help: "Webhook deliveries refused for their signature or credentials (401)",
      labelNames: ["provider"],
      registers: [registry],
    }),
    webhookDuplicateEvents: new Counter({
      name: "ackline_webhook_duplicate_events_total",
      help: "Events in accepted deliveries that were already stored (provider retries)",
      labelNames: ["provider"],
      registers: [registry],
    }),
    webhookProcessingSeconds: new Histogram({
      name: "ackline_webhook_processing_seconds",
      help: "From a webhook request's arrival to its answer",
      labelNames: ["provider"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    dispatchAttempts: new Counter({
      name: "ackline_dispatch_attempts_total",
      help: "Outbound send attempts by channel, provider and outcome",
      labelNames: ["channel", "provider", "outcome"],
      registers: [registry],
    }),
    dispatchThrottled: new Counter({
      name: "ackline_dispatch_throttled_total",
      help: "Sends held back by a provider's rate limit (waited for their slot, or put back in the queue)",
      labelNames: ["provider"],
      registers: [registry],
    }),
    ingestBatchSize: new Histogram({
      name: "ackline_ingest_batch_events",
      help: "Events committed per ingest transaction",
      buckets: [1, 2, 5, 10, 20, 50, 100, 200],
      registers: [registry],
    }),
  };
}
