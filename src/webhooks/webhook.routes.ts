import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { DatabaseGate } from "../db/availability.js";
import { newDeliveryId } from "../domain/ids.js";
import type { ReceivedDelivery } from "../domain/model.js";
import type { ReceiptService } from "../domain/receipt.service.js";
import type { RejectedDeliveryLog } from "../domain/rejected-delivery-log.js";
import { deliveryEvents } from "../domain/webhook-delivery-events.js";
import type { SourceCredentials, WebhookSourceService } from "../domain/webhook-source.service.js";
import type { Metrics } from "../metrics.js";
import type { FailureLimit, SharedLimit } from "../rate-limits.js";
import type { DeliveryFollowUps } from "./follow-ups.js";
import {
  type ParsedDelivery,
  refuseUnindexableKeys,
  retryLater,
  unauthorized,
  WebhookRejection,
  type WebhookProvider,
  type WebhookSecrets,
} from "./provider.js";
import { webhookProviders } from "./providers/index.js";
import { rejectedDeliveryEvidence } from "./rejected-delivery.js";

export interface WebhookRoutesOptions {
  /** Appends accepted deliveries' events, each delivery's log row in the same statement. */
  receipts: ReceiptService;
  /** Refused deliveries, logged best effort: the answer never waits on it. */
  rejectedLog: RejectedDeliveryLog;
  /** Tenants' own sources (`/webhooks/<provider>/<source id>`). */
  sources: WebhookSourceService;
  /** Bounds the wait for the store: past it the delivery is answered 503, not held. */
  databaseGate: DatabaseGate;
  /** True while the applier's backlog is past its limit: new work is refused until it catches up. */
  saturated(): boolean;
  /** The server-wide doors' secrets (environment). */
  secrets: WebhookSecrets;
  bodyLimit: number;
  metrics: Metrics;
  /** Replay tokens and SNS subscription confirmations. */
  followUps: DeliveryFollowUps;
  /** Failed verifications per client address (401s): counted only on failure, so accepted deliveries never wait on it. */
  authFailures: FailureLimit;
  /** Deliveries per second to one tenant's source (`WEBHOOK_RATE_LIMIT`), shared by every instance. */
  sourceLimit: SharedLimit;
  /** `PUBLIC_BASE_URL`: the base providers call (behind a proxy); unset → the request's own protocol and host. */
  publicBaseUrl?: string;
}

const RETRY_AFTER_SECONDS = "5";

const rawBodyOf = (request: FastifyRequest): Buffer => (Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));

/** Who a delivery is verified as: the server-wide door's secrets, or a tenant source's (current, then previous). */
interface Door {
  secrets: WebhookSecrets[];
  /** A tenant source: its events may touch only its tenant's transfers, and only its tenant sees its deliveries. */
  source?: { id: string; tenantId: string };
}

/**
 * `POST /webhooks/<provider>` (server-wide) and `POST /webhooks/<provider>/<source id>` (a
 * tenant's source): verify the raw bytes, normalize, then answer 200 only once the events are
 * appended to the event log (durable; folding them into statuses follows). The raw-body parser is
 * registered inside this plugin and never leaks into the GraphQL route.
 */
export const webhookRoutes: FastifyPluginAsync<WebhookRoutesOptions> = async (app, options) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: options.bodyLimit }, (_request, body, done) => done(null, body));

  /** Every answer the door gives is counted by provider, status and outcome, and timed. */
  function count(reply: FastifyReply, provider: WebhookProvider, status: number, duplicates = 0, stored = 0) {
    const { metrics } = options;
    metrics.webhookRequests.inc({ provider: provider.name, status: String(status) });
    const outcome = status === 200 ? (stored > 0 || duplicates === 0 ? "accepted" : "duplicate") : status === 503 ? "unavailable" : "rejected";
    metrics.webhookDeliveries.inc({ provider: provider.name, outcome });
    if (status === 401) metrics.webhookVerificationFailures.inc({ provider: provider.name });
    if (duplicates > 0) metrics.webhookDuplicateEvents.inc({ provider: provider.name }, duplicates);
    metrics.webhookProcessingSeconds.observe({ provider: provider.name }, reply.elapsedTime / 1000);
  }

  /** The delivery as the log keeps it: the body, and of the request only what normalizing reads (never a credential). */
  function received(request: FastifyRequest, provider: WebhookProvider, door: Door): ReceivedDelivery {
    const receivedAt = new Date();
    const headers = Object.fromEntries((provider.normalizedHeaders ?? []).flatMap((name) => (request.headers[name] === undefined ? [] : [[name, String(request.headers[name])]])));
    return {
      id: newDeliveryId(receivedAt),
      tenantId: door.source?.tenantId ?? null,
      sourceId: door.source?.id ?? null,
      provider: provider.name,
      receivedAt,
      body: rawBodyOf(request),
      request: { url: `${options.publicBaseUrl ?? `${request.protocol}://${request.host}`}${request.url}`, headers },
    };
  }

  async function refuse(request: FastifyRequest, reply: FastifyReply, provider: WebhookProvider, rejection: WebhookRejection, delivery?: ReceivedDelivery) {
    count(reply, provider, rejection.statusCode);
    if (delivery) options.rejectedLog.record(delivery, rejection.statusCode, rejection.message);
    const evidence = rejection.statusCode === 400 ? { delivery: rejectedDeliveryEvidence(rawBodyOf(request)) } : {};
    request.log.warn({ provider: provider.name, reason: rejection.message, deliveryId: delivery?.id, ...evidence }, "webhook rejected");
    if (rejection.statusCode === 401) await options.authFailures.recordFailure(request.ip);
    if (rejection.statusCode === 503) reply.header("retry-after", RETRY_AFTER_SECONDS);
    return reply.code(rejection.statusCode).send({ error: rejection.message });
  }

  /** An address past its failed verifications is answered 429 before anything is read or verified (no I/O to know). */
  function refuseBlocked(request: FastifyRequest, reply: FastifyReply, provider: WebhookProvider) {
    const blocked = options.authFailures.blockedFor(request.ip);
    if (!blocked) return undefined;
    count(reply, provider, 429);
    return reply.code(429).header("retry-after", String(blocked)).send({ error: "too many failed verifications from this address, retry later" });
  }

  /** Verifies with each secret set in turn: during a rotation a delivery signed with the previous secret still passes. */
  async function verify(request: FastifyRequest, provider: WebhookProvider, door: Door, delivery: ReceivedDelivery): Promise<ParsedDelivery> {
    for (const [index, secrets] of door.secrets.entries()) {
      try {
        return await provider.parse(delivery.body, { headers: request.headers, url: delivery.request.url }, secrets, delivery.receivedAt);
      } catch (error) {
        const lastChance = index === door.secrets.length - 1;
        if (lastChance || !(error instanceof WebhookRejection) || error.statusCode !== 401) throw error;
      }
    }
    throw unauthorized("no secrets to verify with");
  }

  async function receive(request: FastifyRequest, reply: FastifyReply, provider: WebhookProvider, door: Door) {
    const log = received(request, provider, door);
    let delivery: ParsedDelivery;
    try {
      delivery = await verify(request, provider, door, log);
      refuseUnindexableKeys(delivery);
      await options.followUps.refuseReplay(provider.name, delivery);
    } catch (error) {
      if (!(error instanceof WebhookRejection)) throw error;
      return refuse(request, reply, provider, error, log);
    }

    if (options.saturated()) {
      count(reply, provider, 503);
      request.log.warn({ provider: provider.name }, "webhook refused: the receipt backlog is past its limit");
      return reply.code(503).header("retry-after", RETRY_AFTER_SECONDS).send({ error: "receipt backlog full, retry later" });
    }
    try {
      // Answered 503 past the deadline even if the append commits later: the retry is then a duplicate, stored once.
      const outcomes = await options.databaseGate.run(async () => {
        const appended = await options.receipts.ingest({ log: { ...log, eventCount: delivery.events.length }, events: deliveryEvents(log, delivery.events) });
        await options.receipts.recordTemplateUpdates(delivery.templateUpdates);
        return appended;
      });
      await options.followUps.afterAccepted(provider.name, delivery);
      const stored = outcomes.filter((outcome) => outcome.stored).length;
      count(reply, provider, 200, outcomes.length - stored, stored + delivery.templateUpdates.length);
      if (delivery.reply) return reply.code(200).type(delivery.reply.contentType).send(delivery.reply.body);
      return reply.code(200).send({ received: outcomes.length + delivery.templateUpdates.length, stored, duplicates: outcomes.length - stored });
    } catch (error) {
      // Not durable, so not acknowledged: the provider retries later and nothing is lost.
      count(reply, provider, 503);
      request.log.error({ err: error, provider: provider.name }, "webhook not stored");
      return reply.code(503).header("retry-after", RETRY_AFTER_SECONDS).send({ error: "receipt store unavailable, retry later" });
    }
  }

  app.post<{ Params: { provider: string } }>("/webhooks/:provider", async (request, reply) => {
    const provider = webhookProviders.get(request.params.provider);
    if (!provider) return reply.code(404).send({ error: `unknown webhook provider ${request.params.provider}` });
    return refuseBlocked(request, reply, provider) ?? receive(request, reply, provider, { secrets: [options.secrets] });
  });

  app.post<{ Params: { provider: string; sourceId: string } }>("/webhooks/:provider/:sourceId", async (request, reply) => {
    const provider = webhookProviders.get(request.params.provider);
    if (!provider) return reply.code(404).send({ error: `unknown webhook provider ${request.params.provider}` });
    const blocked = refuseBlocked(request, reply, provider);
    if (blocked) return blocked;
    let source: SourceCredentials | undefined;
    try {
      source = await options.databaseGate.run(() => options.sources.credentials(request.params.sourceId));
    } catch (error) {
      request.log.error({ err: error, provider: provider.name }, "webhook source unreadable");
      return refuse(request, reply, provider, retryLater("webhook source unavailable, retry later"));
    }
    if (!source || source.provider !== provider.name) return reply.code(404).send({ error: `unknown ${provider.name} webhook source` });
    const door: Door = { secrets: [], source: { id: request.params.sourceId, tenantId: source.tenantId } };
    if (!source.enabled) return refuse(request, reply, provider, unauthorized("this webhook source is disabled"), received(request, provider, door));
    const waitSeconds = await options.sourceLimit.consume(request.params.sourceId);
    if (waitSeconds !== undefined) {
      count(reply, provider, 429);
      return reply.code(429).header("retry-after", String(waitSeconds)).send({ error: "this webhook source is over its rate limit, retry later" });
    }
    const secrets = source.secrets.map((values) => provider.sourceSecrets.parse(values));
    return receive(request, reply, provider, { ...door, secrets });
  });
};
