import type { IncomingMessage, Server } from "node:http";
import { GraphQLError, type GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { type AccessTokenVerifier, extractBearer, type Principal } from "../auth/access-tokens.js";
import type { Logger } from "../logger.js";
import { createLoaders, type GraphQLContext, type GraphQLServices } from "./context.js";
import type { GraphQLErrorFormatter } from "./errors.js";
import type { OperationGuard } from "./operation-guard.js";

/** graphql-ws closes with this code when a token is missing, bad, or expires mid-connection. */
const CLOSE_FORBIDDEN = 4403;
const MAX_TIMER_MS = 2 ** 31 - 1;

type SocketExtra = Record<PropertyKey, unknown> & { principal?: Principal };

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
  development: boolean;
  log: Logger;
}): { close(): Promise<void> } {
  const { errors } = options;
  const wsServer = new WebSocketServer({ server: options.server, path: "/graphql", maxPayload: options.maxPayload });
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
      }),
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const token = extractBearer(params.Authorization ?? params.authorization);
        if (!token) return false;
        try {
          ctx.extra.principal = await options.verifier.verify(token);
        } catch {
          return false;
        }
        const socket = ctx.extra.socket;
        const msLeft = Math.min(MAX_TIMER_MS, ctx.extra.principal.expiresAt * 1000 - Date.now());
        const timer = setTimeout(() => socket.close(CLOSE_FORBIDDEN, "Token expired"), Math.max(0, msLeft));
        socket.once("close", () => clearTimeout(timer));
        return true;
      },
      onSubscribe: (_ctx, _id, payload) => {
        let prepared;
        try {
          prepared = options.guard.prepare(payload);
        } catch (error) {
          // Answered as INTERNAL_SERVER_ERROR (and logged) rather than closing the socket with 4500.
          return [new GraphQLError("internal server error", { originalError: error as Error })];
        }
        if ("errors" in prepared) return prepared.errors;
        return { schema: options.schema, document: prepared.document, operationName: payload.operationName, variableValues: payload.variables };
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
    socket.removeAllListeners("error");
    socket.on("error", (error) => options.log.info({ reason: error.message }, "websocket client error"));
  });
  wsServer.on("error", (error) => options.log.error({ err: error }, "websocket server error"));
  return {
    async close() {
      await disposable.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
