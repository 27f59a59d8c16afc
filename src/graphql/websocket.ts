import type { IncomingMessage, Server } from "node:http";
import { getOperationAST, GraphQLError, type GraphQLSchema, OperationTypeNode } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { type WebSocket, WebSocketServer } from "ws";
import { type AccessTokenVerifier, extractBearer, type Principal } from "../auth/access-tokens.js";
import type { Logger } from "../logger.js";
import type { FailureLimit } from "../rate-limits.js";
import { createLoaders, type GraphQLContext, type GraphQLServices } from "./context.js";
import { type GraphQLErrorFormatter, rateLimited } from "./errors.js";
import type { MutationLimit } from "./mutation-limit.js";
import type { OperationGuard } from "./operation-guard.js";
import { CLOSE_TOO_MANY, SocketBudget } from "./socket-budget.js";

/** graphql-ws closes with this code when a token is missing, bad, or expires mid-connection. */
const CLOSE_FORBIDDEN = 4403;
/** "Service restart": clients reconnect (to another instance) on it; graphql-ws's own 1001 reads as final to many. */
const CLOSE_SERVICE_RESTART = 1012;
/** How long a closing client may take to answer the close handshake before its socket is cut. */
const CLOSE_HANDSHAKE_MS = 1000;
const MAX_TIMER_MS = 2 ** 31 - 1;

type SocketExtra = Record<PropertyKey, unknown> & { principal?: Principal; budget?: SocketBudget };

/** Closes a socket that may not be served now (4429: its address is past its failed authentications, or its tenant has too many sockets open); graphql-ws's own 4403 then finds it closing. */
function refuse(socket: WebSocket, reason: string): false {
  socket.close(CLOSE_TOO_MANY, reason);
  return false;
}

/** Sockets open per tenant on this instance, each counted until it closes. */
class TenantSockets {
  private readonly counts = new Map<string, number>();

  constructor(private readonly maxPerTenant: number) {}

  /** Counts `socket` for `tenantId` unless the tenant is at its cap. */
  open(tenantId: string, socket: WebSocket): boolean {
    const count = this.counts.get(tenantId) ?? 0;
    if (count >= this.maxPerTenant) return false;
    this.counts.set(tenantId, count + 1);
    socket.once("close", () => {
      const left = (this.counts.get(tenantId) ?? 1) - 1;
      if (left > 0) this.counts.set(tenantId, left);
      else this.counts.delete(tenantId);
    });
    return true;
  }
}

/**
 * graphql-ws on `/graphql`: the token comes in `connectionParams.Authorization` and lives as long
 * as the token does. Operations pass the same guard as over HTTP, and a message may be no larger
 * than an HTTP request body (larger closes the socket with 1009).
 */
export function attachGraphQLWebSocket(options: {
  server: Server;
  schema: GraphQLSchema;
  verifier: AccessTokenVerifier;
  services: GraphQLServices;
  guard: OperationGuard;
  errors: GraphQLErrorFormatter;
  maxPayload: number;
  /** The client's address as HTTP requests see it (forwarded by a trusted proxy, else the peer's). */
  clientAddress(request: IncomingMessage): string;
  authFailures: FailureLimit;
  mutationLimit: MutationLimit;
  /** Operations at once on one socket; sockets at once per tenant, on this instance; live updates waiting per socket. */
  limits: { maxSubscriptionsPerSocket: number; maxSocketsPerTenant: number; maxBufferedUpdates: number };
  development: boolean;
  log: Logger;
}): { close(): Promise<void> } {
  const { errors } = options;
  const sockets = new TenantSockets(options.limits.maxSocketsPerTenant);
  const wsServer = new WebSocketServer({ server: options.server, path: "/graphql", maxPayload: options.maxPayload });
  // Resolved once graphql-ws has ended a socket's subscriptions (its onClose), so close() can let them unsubscribe before the pubsub closes.
  const cleanups = new Map<WebSocket, { done: Promise<void>; finish(): void }>();
  const disposable = useServer<Record<string, unknown> | undefined, SocketExtra>(
    {
      schema: options.schema,
      isProd: !options.development,
      context: (ctx): GraphQLContext => ({
        principal: ctx.extra.principal ?? null,
        ip: options.clientAddress(ctx.extra.request),
        client: ctx.extra.request.headers["user-agent"],
        services: options.services,
        loaders: createLoaders(options.services),
        budget: ctx.extra.budget,
      }),
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const token = extractBearer(params.Authorization ?? params.authorization);
        if (!token) return false;
        const socket = ctx.extra.socket;
        const address = options.clientAddress(ctx.extra.request);
        const blocked = options.authFailures.blockedFor(address);
        if (blocked) return refuse(socket, `Too many failed authentications: retry in ${blocked} s`);
        let principal: Principal;
        try {
          principal = await options.verifier.verify(token);
        } catch {
          await options.authFailures.recordFailure(address);
          return false;
        }
        if (!sockets.open(principal.tenantId, socket)) return refuse(socket, "Too many connections for this tenant");
        ctx.extra.principal = principal;
        ctx.extra.budget = new SocketBudget(socket, options.limits.maxBufferedUpdates);
        const msLeft = Math.min(MAX_TIMER_MS, principal.expiresAt * 1000 - Date.now());
        const timer = setTimeout(() => socket.close(CLOSE_FORBIDDEN, "Token expired"), Math.max(0, msLeft));
        socket.once("close", () => clearTimeout(timer));
        return true;
      },
      onSubscribe: async (ctx, _id, payload) => {
        // graphql-ws has already entered this operation among the socket's own.
        if (Object.keys(ctx.subscriptions).length > options.limits.maxSubscriptionsPerSocket) {
          return [rateLimited(`at most ${options.limits.maxSubscriptionsPerSocket} operations at once on one socket`)];
        }
        let prepared;
        try {
          prepared = options.guard.prepare(payload);
        } catch (error) {
          // Answered as INTERNAL_SERVER_ERROR (and logged) rather than closing the socket with 4500.
          return [new GraphQLError("internal server error", { originalError: error as Error })];
        }
        if ("errors" in prepared) return prepared.errors;
        if (getOperationAST(prepared.document, payload.operationName)?.operation === OperationTypeNode.MUTATION) {
          const refused = await options.mutationLimit.refusal(ctx.extra.principal ?? null);
          if (refused) return [refused];
        }
        return { schema: options.schema, document: prepared.document, operationName: payload.operationName, variableValues: payload.variables };
      },
      onClose: (ctx) => {
        cleanups.get(ctx.extra.socket)?.finish();
        cleanups.delete(ctx.extra.socket);
      },
      onError: (_ctx, _id, _payload, graphqlErrors) => errors.formatErrors(graphqlErrors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: errors.formatErrors(result.errors) } : result,
    },
    wsServer,
  );
  // A client's protocol error (a message over maxPayload, text that is not UTF-8, a bad frame)
  // reaches the socket as an error once ws has closed it with the code that says why (1009,
  // 1007, 1002). graphql-ws would print each one with its stack on stderr: log it instead.
  wsServer.on("connection", (socket) => {
    let finish!: () => void;
    cleanups.set(socket, { done: new Promise<void>((resolve) => (finish = resolve)), finish });
    socket.removeAllListeners("error");
    socket.on("error", (error) => options.log.info({ reason: error.message }, "websocket client error"));
  });
  wsServer.on("error", (error) => options.log.error({ err: error }, "websocket server error"));
  return {
    /**
     * Closes every socket with 1012 (cutting those that do not answer the handshake) and waits
     * until their subscriptions have ended, so nothing unsubscribes from a closed pubsub afterwards.
     */
    async close() {
      const sockets = [...wsServer.clients];
      for (const socket of sockets) socket.close(CLOSE_SERVICE_RESTART, "Service restart");
      const cut = setTimeout(() => sockets.forEach((socket) => socket.terminate()), CLOSE_HANDSHAKE_MS);
      // Bounded: a subscription waiting for its next event may only end when one arrives.
      let giveUp: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...cleanups.values()].map((cleanup) => cleanup.done)),
        new Promise<void>((resolve) => (giveUp = setTimeout(resolve, 2 * CLOSE_HANDSHAKE_MS))),
      ]);
      clearTimeout(cut);
      clearTimeout(giveUp);
      await disposable.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
