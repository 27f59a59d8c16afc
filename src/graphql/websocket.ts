import type { Server } from "node:http";
import type { GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { type AccessTokenVerifier, extractBearer, type Principal } from "../auth/access-tokens.js";
import type { Logger } from "../logger.js";
import { createLoaders, type GraphQLContext, type GraphQLServices } from "./context.js";
import { formatErrors } from "./errors.js";

/** graphql-ws closes with this code when a token is missing, bad, or expires mid-connection. */
const CLOSE_FORBIDDEN = 4403;
const MAX_TIMER_MS = 2 ** 31 - 1;

type SocketExtra = Record<PropertyKey, unknown> & { principal?: Principal };

/** graphql-ws on `/graphql`: the token comes in `connectionParams.Authorization` and lives as long as the token does. */
export function attachGraphQLWebSocket(options: {
  server: Server;
  schema: GraphQLSchema;
  verifier: AccessTokenVerifier;
  services: GraphQLServices;
  log: Logger;
}): { close(): Promise<void> } {
  const wsServer = new WebSocketServer({ server: options.server, path: "/graphql" });
  const disposable = useServer<Record<string, unknown> | undefined, SocketExtra>(
    {
      schema: options.schema,
      context: (ctx): GraphQLContext => ({
        principal: ctx.extra.principal ?? null,
        ip: ctx.extra.request.socket.remoteAddress,
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
      onError: (_ctx, _id, _payload, errors) => formatErrors(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: formatErrors(result.errors) } : result,
    },
    wsServer,
  );
  wsServer.on("error", (error) => options.log.error({ err: error }, "websocket server error"));
  return {
    async close() {
      await disposable.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
