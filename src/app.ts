import "reflect-metadata";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import proxyAddr from "@fastify/proxy-addr";
import Fastify, { type FastifyInstance, LogController, type RawServerDefault } from "fastify";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { GraphQLError } from "graphql";
import { type AccessTokenVerifier, createAccessTokenVerifier, developmentToken, extractBearer } from "./auth/access-tokens.js";
import { SigningKeys } from "./auth/signing-keys.js";
import { type Config, storedSecretsFile } from "./config.js";
import { DatabaseGate } from "./db/availability.js";
import { type DatabaseHandle, openDatabase } from "./db/client.js";
import { AuditService } from "./domain/audit.service.js";
import { DomainError } from "./domain/errors.js";
import type { TransferUpdate } from "./domain/model.js";
import { ReceiptHistoryService } from "./domain/receipt-history.service.js";
import { ReceiptStatsService } from "./domain/receipt-stats.service.js";
import { exportRoutes } from "./exports/export.routes.js";
import { type Applier, ReceiptApplier, receiptBacklog } from "./domain/receipt-applier.js";
import { ReceiptService } from "./domain/receipt.service.js";
import { DeliveryPolicyService } from "./domain/delivery-policy.service.js";
import { FileUploadService } from "./domain/file-upload.service.js";
import { OtpService } from "./domain/otp.service.js";
import { SecurityPolicyService } from "./domain/security-policy.service.js";
import { ShortLinkService } from "./domain/short-link.service.js";
import { SuppressionService } from "./domain/suppression.service.js";
import { SecretBox } from "./domain/secret-box.js";
import { TransferFeedService } from "./domain/transfer-feed.service.js";
import { DownloadReceipts } from "./domain/download-receipt.js";
import { TenantFeedService } from "./domain/tenant-feed.service.js";
import { DownloadService } from "./domain/download.service.js";
import { TransferService } from "./domain/transfer.service.js";
import { UnsubscribeService } from "./domain/unsubscribe.service.js";
import { WebhookDeliveryService } from "./domain/webhook-delivery.service.js";
import { WebhookReplayService } from "./domain/webhook-replay.service.js";
import { WebhookSourceService } from "./domain/webhook-source.service.js";
import { expireDeliveries } from "./domain/delivery-log-retention.js";
import { RejectedDeliveryLog } from "./domain/rejected-delivery-log.js";
import { WakeableLoop } from "./domain/wakeable-loop.js";
import { VerifyReplyService } from "./domain/verify-reply.service.js";
import { ThreadedReceiptApplier } from "./applier/threaded-applier.js";
import { createAdapters } from "./delivery/adapters.js";
import { createOtpSender } from "./delivery/otp-sender.js";
import { Dispatcher, dispatchBacklog } from "./delivery/dispatcher.js";
import { createReceiptMailer } from "./delivery/receipt-email.js";
import { SendThrottle } from "./delivery/throttle.js";
import { downloadRoutes } from "./recipient/download.routes.js";
import { filesRoutes } from "./recipient/files.routes.js";
import { shortLinkRoutes } from "./recipient/short-link.routes.js";
import { createFileLocator } from "./storage/file-location.js";
import { LocalFiles } from "./storage/local-files.js";
import { s3Origin } from "./storage/s3-presign.js";
import { securePages } from "./recipient/page-security.js";
import { unsubscribeRoutes } from "./recipient/unsubscribe.routes.js";
import { rootRoutes } from "./root/root.routes.js";
import { explorerPage } from "./webapp/explorer.js";
import { webAppRoutes } from "./webapp/web-app.routes.js";
import { loadWebBuild } from "./webapp/web-build.js";
import { createLoaders, type GraphQLContext, type GraphQLServices } from "./graphql/context.js";
import { createErrorFormatter, rateLimited, unauthenticatedIs401 } from "./graphql/errors.js";
import { graphqlRoutes } from "./graphql/graphql.routes.js";
import { createMutationLimit } from "./graphql/mutation-limit.js";
import { createOperationGuard } from "./graphql/operation-guard.js";
import { buildGraphQLSchema } from "./graphql/schema.js";
import { attachGraphQLWebSocket } from "./graphql/websocket.js";
import { createLogger, type Logger } from "./logger.js";
import { backlogAgeSeconds, createMetrics, registerDispatchBacklog, registerReceiptBacklog } from "./metrics.js";
import { createTransferEvents, type TransferEvents } from "./pubsub/pubsub.js";
import { createRateLimits, type FailureLimit } from "./rate-limits.js";
import { DeliveryFollowUps } from "./webhooks/follow-ups.js";
import { ReplayCache } from "./webhooks/replay-cache.js";
import { normalizeLoggedDelivery } from "./webhooks/replay-normalizer.js";
import { snsCertificates } from "./webhooks/sns-certificates.js";
import { validateSourceSecrets } from "./webhooks/providers/index.js";
import { webhookRoutes } from "./webhooks/webhook.routes.js";

export interface Ackline {
  http: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>;
  log: Logger;
  /** The base URL the server listens on (known after `listen`). */
  url(): string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

async function contextFromRequest(
  verifier: AccessTokenVerifier,
  authFailures: FailureLimit,
  services: GraphQLServices,
  request: { headers: Record<string, string | string[] | undefined>; ip: string },
): Promise<GraphQLContext> {
  const token = extractBearer(request.headers.authorization);
  let principal = null;
  if (token) {
    // An address past its failed authentications learns nothing more, not even whether a token is good.
    const blocked = authFailures.blockedFor(request.ip);
    if (blocked) throw rateLimited(`too many failed authentications from this address: retry in ${blocked} s`, blocked);
    try {
      principal = await verifier.verify(token);
    } catch (error) {
      await authFailures.recordFailure(request.ip);
      const message = error instanceof DomainError ? error.message : "invalid access token";
      throw new GraphQLError(message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
    }
  }
  const userAgent = request.headers["user-agent"];
  return { principal, ip: request.ip, client: Array.isArray(userAgent) ? userAgent[0] : userAgent, services, loaders: createLoaders(services) };
}

/**
 * Stops listening and waits for in-flight requests. A keep-alive connection whose request was in
 * flight when closing began turns idle only afterwards, so idle ones are swept until the server
 * is done (instead of waiting out the 72 s keep-alive timeout), and stragglers are cut after `graceMs`.
 */
async function closeHttp(http: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>, graceMs: number): Promise<void> {
  const sweep = setInterval(() => http.server.closeIdleConnections(), 100);
  const deadline = setTimeout(() => http.server.closeAllConnections(), graceMs);
  try {
    await http.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
}

/** A readiness probe is answered within a second, even while the database hangs. */
const READINESS_TIMEOUT_MS = 1000;
/** Refused deliveries (unauthenticated input) each instance logs per minute, bodies and URLs counted: past it they are answered but not logged. */
const REJECTED_LOG_BYTES_PER_MINUTE = 1024 * 1024;
/** How often each instance deletes deliveries past WEBHOOK_LOG_RETENTION_DAYS. */
const DELIVERY_LOG_EXPIRY_MS = 10 * 60 * 1000;
const RETRY_AFTER_SECONDS = "5";

/** Builds the whole service from a config: database, pubsub, GraphQL (HTTP + WebSocket), webhooks, dispatcher. */
export async function createAckline(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Ackline> {
  snsCertificates.seed(config.snsCertificates);
  const database: DatabaseHandle = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    connectTimeoutMs: config.databaseTimeouts.connectMs,
    statementTimeoutMs: config.databaseTimeouts.statementMs,
  });
  // Pure reads that may lag the primary a little; the subscription feed's replay stays on the primary, where the fold just wrote.
  const readDatabase = config.databaseReadUrl
    ? await openDatabase({
        url: config.databaseReadUrl,
        dataDir: config.dataDir,
        connectTimeoutMs: config.databaseTimeouts.connectMs,
        statementTimeoutMs: config.databaseTimeouts.statementMs,
        migrate: false,
      })
    : undefined;
  const databaseGate = new DatabaseGate({ timeoutMs: config.databaseTimeouts.requestMs, failureThreshold: 5, openMs: 1000 });
  const events: TransferEvents = createTransferEvents(config, log);
  const metrics = createMetrics();
  registerDispatchBacklog(metrics, () => dispatchBacklog(database.db));
  registerReceiptBacklog(metrics, () => receiptBacklog(database.db));
  const signingKeys = await SigningKeys.load(config.signingKeys);
  const verifier = createAccessTokenVerifier(config.auth);
  // Forwarding headers count only from the configured proxies: anyone else could claim any address.
  const trustedProxy = proxyAddr.compile(config.trustProxy);
  const http = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
    // No proxy trusted: the plain peer address, without parsing forwarding headers on every request.
    trustProxy: config.trustProxy.length > 0 ? trustedProxy : false,
    // While shutting down, requests on kept-alive connections are refused by the hook below, with Retry-After.
    return503OnClosing: false,
  });
  let shuttingDown = false;
  http.addHook("onRequest", async (_request, reply) => {
    if (!shuttingDown) return;
    await reply.code(503).header("retry-after", RETRY_AFTER_SECONDS).header("connection", "close").send({ error: "shutting down, retry later" });
  });
  const rateLimits = createRateLimits(config.rateLimits, config, log);
  const mutationLimit = createMutationLimit(rateLimits.mutations);

  let listeningUrl = `http://${config.host}:${config.port}`;
  const publicBaseUrl = () => config.publicBaseUrl ?? listeningUrl;
  const { adapters, stopSimulator } = createAdapters(config, {
    webhookUrl: () => `${listeningUrl}/webhooks/generic`,
    publicWebhookUrl: (door) => `${publicBaseUrl()}/webhooks/${door}`,
    log,
  });

  const dispatcher =
    config.role === "api"
      ? undefined
      : new Dispatcher({
          db: database.db,
          adapters,
          signingKeys,
          publicBaseUrl,
          publishUpdates: (updates) => events.publishUpdates(updates),
          log: log.child({ component: "dispatcher" }),
          metrics,
          maxAttempts: config.dispatchMaxAttempts,
          leaseMs: config.dispatchLeaseMs,
          throttle: config.dispatchRateLimits.size > 0 ? new SendThrottle(database.db, config.dispatchRateLimits) : undefined,
        });
  const publishUpdates = (updates: TransferUpdate[]) => events.publishUpdates(updates);
  const jwksUrl = () => `${publicBaseUrl()}/.well-known/jwks.json`;
  const verifyReplies = new VerifyReplyService({
    db: database.db,
    // Through the RCS adapter, when the tap came through its provider's door.
    reply: async (provider, request) => {
      const adapter = adapters.RCS;
      if (adapter.provider !== provider || !adapter.reply) return undefined;
      const outcome = await adapter.reply(request);
      return outcome.kind === "accepted" ? { sent: true, providerMessageId: outcome.providerMessageId } : { sent: false, error: outcome.error };
    },
    signingKey: () => signingKeys.fingerprint(),
    jwksUrl,
    publishUpdates,
  });
  // Whichever instance folded a Verify ID tap answers it, once.
  const answerVerifyTaps = (updates: TransferUpdate[]) =>
    void verifyReplies.answerTaps(updates).catch((error: unknown) => log.error({ err: error, component: "verify-reply" }, "answering a Verify ID tap failed"));
  // Every role folds: appended events are folded by whichever instance gets to them first.
  const applierOptions = {
    publishUpdates,
    onError: (error: unknown) => log.error({ err: error, component: "receipt-applier" }, "folding receipts failed; retrying"),
    backlogLimit: config.receiptBacklogLimit,
  };
  const applier: Applier = config.databaseUrl
    ? new ThreadedReceiptApplier({
        ...applierOptions,
        answerVerifyTaps,
        databaseUrl: config.databaseUrl,
        connectTimeoutMs: config.databaseTimeouts.connectMs,
        statementTimeoutMs: config.databaseTimeouts.statementMs,
        logLevel: config.logLevel,
        pubsub: { redisUrl: config.redisUrl, redisClusterUrls: config.redisClusterUrls },
      })
    : new ReceiptApplier({
        ...applierOptions,
        publishUpdates: (updates) => {
          publishUpdates(updates);
          answerVerifyTaps(updates);
        },
        db: database.db,
      });
  const receipts = new ReceiptService(database.db, {
    maxBatch: 500,
    concurrency: database.concurrency,
    onAppended: () => applier.wake(),
    observeBatch: (size) => metrics.ingestBatchSize.observe(size),
  });
  const downloadReceipts = new DownloadReceipts(signingKeys, publicBaseUrl);
  const services: GraphQLServices = {
    db: database.db,
    databaseGate,
    transfers: new TransferService({
      db: database.db,
      providerFor: (channel) => adapters[channel].provider,
      storageRegion: config.storageRegion,
      onQueued: () => dispatcher?.wake(),
      revokeAtProvider: async (message) => {
        const adapter = adapters[message.channel];
        return adapter.provider === message.provider && adapter.revoke ? adapter.revoke(message) : undefined;
      },
      publishUpdates,
    }),
    downloads: new DownloadService({
      db: database.db,
      publishUpdates,
      receipts: downloadReceipts,
      emailReceipt: createReceiptMailer({ smtpUrl: config.smtpUrl, from: config.emailFrom, jwksUrl, log }),
    }),
    receipts: downloadReceipts,
    transferFeed: new TransferFeedService({ db: database.db, listen: (tenantId, options) => events.listen(tenantId, options) }),
    tenantFeed: new TenantFeedService((tenantId, options) => events.listen(tenantId, options)),
    history: new ReceiptHistoryService(readDatabase?.db ?? database.db),
    stats: new ReceiptStatsService(readDatabase?.db ?? database.db),
    suppressions: new SuppressionService(database.db),
    deliveryPolicies: new DeliveryPolicyService(database.db),
    securityPolicies: new SecurityPolicyService(database.db),
    webhookSources: new WebhookSourceService(database.db, {
      secretBox: config.secretsKey ? new SecretBox(config.secretsKey) : undefined,
      validateSecrets: validateSourceSecrets,
    }),
    webhookDeliveries: new WebhookDeliveryService(database.db),
    webhookReplays: new WebhookReplayService(database.db, { receipts, normalize: normalizeLoggedDelivery }),
    audit: new AuditService(database.db),
    publicBaseUrl,
  };

  const schema = await buildGraphQLSchema();
  const guard = createOperationGuard({ schema, limits: config.graphqlLimits, introspection: config.introspection });
  const errorFormatter = createErrorFormatter({ log, hideSuggestions: !config.introspection });
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    // The guard's validation rules refuse introspection when it is off, identically over graphql-ws.
    introspection: true,
    parseOptions: guard.parseOptions,
    validationRules: [...guard.validationRules],
    formatError: errorFormatter.formatError,
    includeStacktraceInErrorResponses: config.development,
    // No drain plugin: close() drains HTTP itself; the plugin would close Fastify a second time, inside apollo.stop(), where shutdowns were seen to stall.
    // Browsers get Ackline's own explorer (graphql.routes.ts), not Apollo's landing page and its CDN.
    plugins: [guard.apolloPlugin, mutationLimit.apolloPlugin, unauthenticatedIs401, ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();

  http.get("/healthz", async () => ({ status: "ok" }));
  http.get("/readyz", async (_request, reply) => {
    try {
      const [backlog] = await Promise.all([
        // Counting the backlog is itself the database's answer: no separate ping.
        databaseGate.run(() => receiptBacklog(database.db, config.receiptBacklogLimit), READINESS_TIMEOUT_MS),
        events.ping(),
      ]);
      // Reported, not failed on: the backlog is shared by every instance, and a full one only closes the webhook door.
      const receipts = { backlog: backlog.events, oldestSeconds: backlogAgeSeconds(backlog.oldestReceivedAt), limit: config.receiptBacklogLimit };
      return { status: "ready", database: database.kind, pubsub: events.kind, receipts };
    } catch (error) {
      return reply.code(503).send({ status: "unavailable", error: (error as Error).message });
    }
  });
  http.get("/metrics", async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  http.get("/.well-known/jwks.json", async () => signingKeys.jwks);
  if (config.role !== "worker") {
    const webBuild = await loadWebBuild();
    await http.register(graphqlRoutes, {
      apollo,
      context: (request) => contextFromRequest(verifier, rateLimits.authFailures, services, request),
      bodyLimit: config.graphqlBodyLimit,
      explorer: explorerPage(webBuild, () => developmentToken(config)),
    });
    await http.register(webAppRoutes, { build: webBuild });
    await http.register(webhookRoutes, {
      receipts,
      rejectedLog: new RejectedDeliveryLog(database.db, {
        bytesPerMinute: REJECTED_LOG_BYTES_PER_MINUTE,
        onError: (error) => log.warn({ err: error }, "a refused webhook delivery could not be logged"),
        onDropped: (count) => log.warn({ count }, "refused webhook deliveries past the log's budget were not logged"),
      }),
      sources: services.webhookSources,
      databaseGate,
      saturated: () => applier.saturated(),
      secrets: config.webhookSecrets,
      bodyLimit: config.webhookBodyLimit,
      metrics,
      publicBaseUrl: config.publicBaseUrl,
      followUps: new DeliveryFollowUps(new ReplayCache(database.db)),
      authFailures: rateLimits.authFailures,
      sourceLimit: rateLimits.webhookSource,
    });
    const localFiles = new LocalFiles(path.resolve(config.dataDir, "files"));
    const files = createFileLocator({ downloadUrlTemplate: config.downloadUrlTemplate, s3: config.s3, local: localFiles, signingKeys });
    const linkDownloads = { downloads: services.downloads, files };
    await http.register(filesRoutes, {
      verifier,
      authFailures: rateLimits.authFailures,
      uploads: new FileUploadService({ db: database.db, files: localFiles }),
      local: localFiles,
      signingKeys,
      downloads: services.downloads,
    });
    await http.register(exportRoutes, { db: readDatabase?.db ?? database.db, verifier, authFailures: rateLimits.authFailures });
    await http.register(async (pages) => {
      // The download's POST redirects to the file's host, and Chrome applies form-action to that redirect.
      const fileOrigin = config.downloadUrlTemplate ? new URL(config.downloadUrlTemplate).origin : config.s3 && s3Origin(config.s3);
      await securePages(pages, { fileOrigin });
      await pages.register(downloadRoutes, { signingKeys, ...linkDownloads, limit: rateLimits.recipient });
      await pages.register(shortLinkRoutes, {
        ...linkDownloads,
        limit: rateLimits.recipient,
        links: new ShortLinkService({
          db: database.db,
          linkCodes: signingKeys.linkCodes,
          publishUpdates,
          logUnattributed: (details) => log.warn({ ...details, component: "short-links" }, "refused a link that names no message"),
        }),
        otps: new OtpService({ db: database.db, send: createOtpSender(adapters) }),
        signer: () => ({ kid: signingKeys.kid, jwksUrl: `${publicBaseUrl()}/.well-known/jwks.json` }),
      });
      await pages.register(unsubscribeRoutes, { signingKeys, unsubscribes: new UnsubscribeService({ db: database.db, publishUpdates }), limit: rateLimits.recipient });
      await pages.register(rootRoutes, { baseUrl: publicBaseUrl, developmentToken: () => developmentToken(config), secretsFile: storedSecretsFile(config.dataDir) });
    });
  }

  // Every instance may expire the log: the deletes skip each other's rows.
  const deliveryLogExpiry = new WakeableLoop(
    async () => {
      await expireDeliveries(database.db, config.webhookLogRetentionDays);
    },
    { pollMs: DELIVERY_LOG_EXPIRY_MS, onError: (error) => log.warn({ err: error }, "expiring the webhook delivery log failed; retrying later") },
  );

  let websocket: { close(): Promise<void> } | undefined;
  return {
    http,
    log,
    url: () => listeningUrl,
    async listen() {
      const address = await http.listen({ port: config.port, host: config.host });
      listeningUrl = address.replace("[::1]", "localhost");
      if (config.role !== "worker") {
        websocket = attachGraphQLWebSocket({
          server: http.server,
          schema,
          verifier,
          services,
          guard,
          errors: errorFormatter,
          maxPayload: config.graphqlBodyLimit,
          clientAddress: (request) => proxyAddr(request, trustedProxy),
          authFailures: rateLimits.authFailures,
          mutationLimit,
          limits: config.webSocketLimits,
          development: config.development,
          log,
        });
      }
      dispatcher?.start();
      applier.start();
      deliveryLogExpiry.start();
      return listeningUrl;
    },
    /**
     * Refuses new requests (503), lets those in flight finish, tells subscribers to reconnect
     * (1012) and stops the loops after their current pass, all at once; then the stores close.
     * Acknowledged webhooks are already durable, so nothing waits on the fold.
     */
    async close() {
      shuttingDown = true;
      stopSimulator();
      // Bounded: a pass stuck on a database that is gone ends once the connections below are closed.
      const stopped = Promise.all([dispatcher?.stop(), applier.stop(), deliveryLogExpiry.stop(), websocket?.close(), closeHttp(http, config.shutdownTimeoutMs / 2)]);
      stopped.catch(() => {}); // one that fails after the bound has nobody left to tell
      await Promise.race([stopped, delay(config.shutdownTimeoutMs, undefined, { ref: false })]);
      await apollo.stop();
      await events.close();
      await rateLimits.close();
      await database.close();
      await readDatabase?.close();
    },
  };
}
