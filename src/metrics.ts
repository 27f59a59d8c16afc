import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  webhookRequests: Counter<"provider" | "status">;
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
