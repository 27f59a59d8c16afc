import "reflect-metadata";
import { ApolloServer } from "@apollo/server";
import fastifyApollo, { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import Fastify, { type FastifyInstance, LogController, type RawServerDefault } from "fastify";
import type { IncomingMessage, ServerResponse } from "node:http";
import { GraphQLError } from "graphql";
import { type AccessTokenVerifier, createAccessTokenVerifier, extractBearer } from "./auth/access-tokens.js";
import { SigningKeys } from "./auth/signing-keys.js";
import type { Config } from "./config.js";
import { type DatabaseHandle, openDatabase, pingDatabase } from "./db/client.js";
import { DomainError } from "./domain/errors.js";
import type { Channel } from "./domain/model.js";
import { ReceiptHistoryService } from "./domain/receipt-history.service.js";
import { ReceiptService } from "./domain/receipt.service.js";
import { TransferService } from "./domain/transfer.service.js";
import type { DeliveryAdapter } from "./delivery/adapter.js";
import { Dispatcher } from "./delivery/dispatcher.js";
import { createEmailAdapter } from "./delivery/email.adapter.js";
import { createGenericCpaasAdapter } from "./delivery/generic-cpaas.adapter.js";
import { createSimulatorFetch } from "./delivery/simulator.js";
import { createLoaders, type GraphQLContext, type GraphQLServices } from "./graphql/context.js";
import { formatGraphQLError } from "./graphql/errors.js";
import { buildGraphQLSchema } from "./graphql/schema.js";
import { attachGraphQLWebSocket } from "./graphql/websocket.js";
import { createLogger, type Logger } from "./logger.js";
import { createMetrics } from "./metrics.js";
import { createTransferEvents, type TransferEvents } from "./pubsub/pubsub.js";
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
  services: GraphQLServices,
  request: { headers: Record<string, string | string[] | undefined>; ip: string },
): Promise<GraphQLContext> {
  const token = extractBearer(request.headers.authorization);
  let principal = null;
  if (token) {
    try {
      principal = await verifier.verify(token);
    } catch (error) {
      const message = error instanceof DomainError ? error.message : "invalid access token";
      throw new GraphQLError(message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
    }
  }
  const userAgent = request.headers["user-agent"];
  return { principal, ip: request.ip, client: Array.isArray(userAgent) ? userAgent[0] : userAgent, services, loaders: createLoaders(services) };
}

function createAdapters(config: Config, secret: string, webhookUrl: () => string, log: Logger) {
  const simulator = config.cpaas
    ? undefined
    : createSimulatorFetch({ webhookUrl, secret, stepMs: config.simulatorStepMs, log: log.child({ component: "simulator" }) });
  const messaging = config.cpaas
    ? createGenericCpaasAdapter({ apiUrl: config.cpaas.apiUrl, token: config.cpaas.token, provider: "cpaas" })
    : createGenericCpaasAdapter({ apiUrl: "http://simulator.invalid", provider: "simulator", fetch: simulator });
  const adapters: Record<Channel, DeliveryAdapter> = {
    RCS: messaging,
    SMS: messaging,
    EMAIL: createEmailAdapter({ smtpUrl: config.smtpUrl, from: config.emailFrom, log }),
  };
  return { adapters, stopSimulator: () => simulator?.stop() };
}

/**
 * Stops listening and waits for in-flight requests. A keep-alive connection whose request was in
 * flight when closing began turns idle only afterwards, so idle ones are swept until the server
 * is done (instead of waiting out the 72 s keep-alive timeout), and stragglers are cut after 10 s.
 */
async function closeHttp(http: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>): Promise<void> {
  const sweep = setInterval(() => http.server.closeIdleConnections(), 100);
  const deadline = setTimeout(() => http.server.closeAllConnections(), 10_000);
  try {
    await http.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
}

/** Builds the whole service from a config: database, pubsub, GraphQL (HTTP + WebSocket), webhooks, dispatcher. */
export async function createAckline(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Ackline> {
  const database: DatabaseHandle = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  const events: TransferEvents = createTransferEvents(config.redisUrl, log);
  const metrics = createMetrics();
  const signingKeys = await SigningKeys.load(config.signingKeys);
  const verifier = createAccessTokenVerifier(config.auth);
  const http = Fastify({ loggerInstance: log, logController: new LogController({ disableRequestLogging: true }), trustProxy: true });

  let listeningUrl = `http://${config.host}:${config.port}`;
  const publicBaseUrl = () => config.publicBaseUrl ?? listeningUrl;
  const { adapters, stopSimulator } = createAdapters(config, config.webhookSecrets.generic ?? "", () => `${listeningUrl}/webhooks/generic`, log);

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
        });
  const receipts = new ReceiptService(database.db, events, {
    maxBatch: 200,
    concurrency: database.concurrency,
    observeBatch: (size) => metrics.ingestBatchSize.observe(size),
  });
  const services: GraphQLServices = {
    db: database.db,
    transfers: new TransferService({
      db: database.db,
      providerFor: (channel) => adapters[channel].provider,
      onQueued: () => dispatcher?.wake(),
      publishUpdates: (updates) => events.publishUpdates(updates),
      listen: (transferId) => events.listen(transferId),
    }),
    history: new ReceiptHistoryService(database.db),
  };

  const schema = await buildGraphQLSchema();
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: config.introspection,
    formatError: formatGraphQLError,
    plugins: [fastifyApolloDrainPlugin(http)],
  });
  await apollo.start();

  http.get("/healthz", async () => ({ status: "ok" }));
  http.get("/readyz", async (_request, reply) => {
    try {
      await Promise.all([pingDatabase(database.db), events.ping()]);
      return { status: "ready", database: database.kind, pubsub: events.kind };
    } catch (error) {
      return reply.code(503).send({ status: "unavailable", error: (error as Error).message });
    }
  });
  http.get("/metrics", async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  http.get("/.well-known/jwks.json", async () => signingKeys.jwks);
  if (config.role !== "worker") {
    await http.register(fastifyApollo(apollo), {
      path: "/graphql",
      context: (request) => contextFromRequest(verifier, services, request),
    });
    await http.register(webhookRoutes, {
      receipts,
      secrets: config.webhookSecrets,
      bodyLimit: config.webhookBodyLimit,
      metrics,
    });
  }

  let websocket: { close(): Promise<void> } | undefined;
  return {
    http,
    log,
    url: () => listeningUrl,
    async listen() {
      const address = await http.listen({ port: config.port, host: config.host });
      listeningUrl = address.replace("[::1]", "localhost");
      if (config.role !== "worker") {
        websocket = attachGraphQLWebSocket({ server: http.server, schema, verifier, services, log });
      }
      dispatcher?.start();
      return listeningUrl;
    },
    async close() {
      await dispatcher?.stop();
      stopSimulator();
      await websocket?.close();
      await closeHttp(http);
      await apollo.stop().catch(() => {});
      await events.close();
      await database.close();
    },
  };
}
