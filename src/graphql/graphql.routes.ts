import { isUtf8 } from "node:buffer";
import type { ApolloServer } from "@apollo/server";
import { type ApolloFastifyContextFunction, fastifyApolloHandler } from "@as-integrations/fastify";
import type { FastifyPluginAsync } from "fastify";
import type { GraphQLContext } from "./context.js";

export interface GraphQLRoutesOptions {
  apollo: ApolloServer<GraphQLContext>;
  context: ApolloFastifyContextFunction<GraphQLContext>;
  /** The largest request body; graphql-ws takes no larger message. */
  bodyLimit: number;
}

/**
 * `/graphql` over HTTP. Its JSON parser refuses a body that is not UTF-8 (400) rather than read
 * it with replacement characters, and lives inside this plugin only.
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
  app.route({
    method: ["GET", "POST", "OPTIONS"],
    url: "/graphql",
    bodyLimit: options.bodyLimit,
    handler: fastifyApolloHandler(options.apollo, { context: options.context }),
  });
};
