import type { FastifyPluginAsync } from "fastify";
import type { DatabaseGate } from "../db/availability.js";
import type { ReceiptService } from "../domain/receipt.service.js";
import type { Metrics } from "../metrics.js";
import type { DeliveryFollowUps } from "./follow-ups.js";
import { WebhookRejection, type WebhookSecrets } from "./provider.js";
import { webhookProviders } from "./providers/index.js";

export interface WebhookRoutesOptions {
  receipts: ReceiptService;
  /** Bounds the wait for the store: past it the delivery is answered 503, not held. */
  databaseGate: DatabaseGate;
  /** True while the applier's backlog is past its limit: new work is refused until it catches up. */
  saturated(): boolean;
  secrets: WebhookSecrets;
  bodyLimit: number;
  metrics: Metrics;
  /** Replay tokens and SNS subscription confirmations. */
  followUps: DeliveryFollowUps;
  /** `PUBLIC_BASE_URL`: the base providers call (behind a proxy); unset → the request's own protocol and host. */
  publicBaseUrl?: string;
}

const RETRY_AFTER_SECONDS = "5";

/**
 * `POST /webhooks/<provider>`: verify the raw bytes, normalize, then answer 200 only once the
 * events are appended to the event log (durable; folding them into statuses follows). The
 * raw-body parser is registered inside this plugin and never leaks into the GraphQL route.
 */
export const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (app, options) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: options.bodyLimit }, (_request, body, done) => done(null, body));

  app.post<{ Params: { provider: string } }>("/webhooks/:provider", async (request, reply) => {
    const provider = webhookProviders.get(request.params.provider);
    if (!provider) return reply.code(404).send({ error: `unknown webhook provider ${request.params.provider}` });
    const count = (status: number) => options.metrics.webhookRequests.inc({ provider: provider.name, status: String(status) });

    let delivery;
    try {
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const url = `${options.publicBaseUrl ?? `${request.protocol}://${request.host}`}${request.url}`;
      delivery = await provider.parse(rawBody, { headers: request.headers, url }, options.secrets, new Date());
      await options.followUps.refuseReplay(provider.name, delivery);
    } catch (error) {
      if (!(error instanceof WebhookRejection)) throw error;
      count(error.statusCode);
      request.log.warn({ provider: provider.name, reason: error.message }, "webhook rejected");
      if (error.statusCode === 503) reply.header("retry-after", RETRY_AFTER_SECONDS);
      return reply.code(error.statusCode).send({ error: error.message });
    }

    if (options.saturated()) {
      count(503);
      request.log.warn({ provider: provider.name }, "webhook refused: the receipt backlog is past its limit");
      return reply.code(503).header("retry-after", RETRY_AFTER_SECONDS).send({ error: "receipt backlog full, retry later" });
    }
    try {
      // Answered 503 past the deadline even if the append commits later: the retry is then a duplicate, stored once.
      const outcomes = await options.databaseGate.run(async () => {
        const appended = await options.receipts.ingest(delivery.events.map((event) => ({ ...event, source: provider.name })));
        await options.receipts.recordTemplateUpdates(delivery.templateUpdates);
        return appended;
      });
      await options.followUps.afterAccepted(provider.name, delivery);
      count(200);
      if (delivery.reply) return reply.code(200).type(delivery.reply.contentType).send(delivery.reply.body);
      const stored = outcomes.filter((outcome) => outcome.stored).length;
      return reply.code(200).send({ received: outcomes.length + delivery.templateUpdates.length, stored, duplicates: outcomes.length - stored });
    } catch (error) {
      // Not durable, so not acknowledged: the provider retries later and nothing is lost.
      count(503);
      request.log.error({ err: error, provider: provider.name }, "webhook not stored");
      return reply.code(503).header("retry-after", RETRY_AFTER_SECONDS).send({ error: "receipt store unavailable, retry later" });
    }
  });
};
