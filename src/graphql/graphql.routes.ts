import { isUtf8 } from "node:buffer";
import type { ApolloServer } from "@apollo/server";
import { type ApolloFastifyContextFunction, fastifyApolloHandler } from "@as-integrations/fastify";
import helmet from "@fastify/helmet";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { WEB_HELMET_OPTIONS } from "../webapp/web-security.js";
import type { GraphQLContext } from "./context.js";

export interface GraphQLRoutesOptions {
  apollo: ApolloServer<GraphQLContext>;
  context: ApolloFastifyContextFunction<GraphQLContext>;
  /** The largest request body; graphql-ws takes no larger message. */
  bodyLimit: number;
  /** The API explorer's page, for a browser's GET (it runs with the web app's security headers). */
  explorer(reply: FastifyReply): Promise<FastifyReply>;
}

/** A browser navigating to /graphql (as Apollo tells its landing page apart): HTML accepted, no operation in the URL. */
function wantsExplorer(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? "";
  return request.method === "GET" && accept.includes("text/html") && !(request.query as Record<string, unknown> | undefined)?.query;
}

/**
 * `/graphql` over HTTP. Its JSON parser refuses a body that is not UTF-8 (400) rather than read
 * it with replacement characters, and lives inside this plugin only. A browser's GET gets the
 * API explorer (GraphiQL from Ackline's own build) instead of Apollo's landing page.
 */
export const graphqlRoutes: FastifyPluginAsync<GraphQLRoutesOptions> = async (app, options) => {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser<Buffer>("application/json", { parseAs: "buffer", bodyLimit: options.bodyLimit }, (request, body, done) => {
    if (!isUtf8(body)) {
      done(Object.assign(new Error("the request body is not UTF-8"), { statusCode: 400 }), undefined);
      return;
    }
    void parseJson(request, body.toString("utf8"), done);
  });
  // Applied only by the explorer's page (reply.helmet()): API answers carry no page headers.
  await app.register(helmet, { ...WEB_HELMET_OPTIONS, global: false });
  const apollo = fastifyApolloHandler(options.apollo, { context: options.context });
  app.route({
    method: ["GET", "POST", "OPTIONS"],
    url: "/graphql",
    bodyLimit: options.bodyLimit,
    handler(request, reply) {
      if (wantsExplorer(request)) return options.explorer(reply);
      // Apollo's handler types its route's reply as a string; it is the same request.
      return apollo.call(this, request as Parameters<typeof apollo>[0], reply as Parameters<typeof apollo>[1]);
    },
  });
};
