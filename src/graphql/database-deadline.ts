import { defaultFieldResolver, type GraphQLSchema } from "graphql";
import type { GraphQLContext } from "./context.js";

/**
 * Every query and mutation field runs under the database gate, over HTTP and graphql-ws alike:
 * through an outage it is answered SERVICE_UNAVAILABLE within DATABASE_REQUEST_TIMEOUT_MS (or at
 * once while the gate is open) instead of holding the client. Nested fields that read the
 * database do so through loaders that are gated the same way (context.ts).
 */
export function boundByDatabaseGate(schema: GraphQLSchema): GraphQLSchema {
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context: GraphQLContext, info) =>
        context.services.databaseGate.run(async () => resolve(source, args, context, info));
    }
  }
  return schema;
}
