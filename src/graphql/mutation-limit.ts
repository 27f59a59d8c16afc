import type { ApolloServerPlugin } from "@apollo/server";
import { type GraphQLError, OperationTypeNode } from "graphql";
import type { Principal } from "../auth/access-tokens.js";
import type { SharedLimit } from "../rate-limits.js";
import type { GraphQLContext } from "./context.js";
import { rateLimited } from "./errors.js";

export interface MutationLimit {
  /** Counts one mutation for the principal's token: why it may not run, if it may not. */
  refusal(principal: Principal | null): Promise<GraphQLError | undefined>;
  /** The same for HTTP, once Apollo knows the operation is a mutation. */
  readonly apolloPlugin: ApolloServerPlugin<GraphQLContext>;
}

/**
 * Mutations per token (its tenant and subject: more tokens for one integration do not buy more),
 * counted alike over HTTP and graphql-ws. An unauthenticated mutation is refused anyway, uncounted.
 */
export function createMutationLimit(limit: SharedLimit): MutationLimit {
  async function refusal(principal: Principal | null): Promise<GraphQLError | undefined> {
    if (!principal) return undefined;
    const retryAfter = await limit.consume(`${principal.tenantId}:${principal.subject}`);
    return retryAfter === undefined ? undefined : rateLimited(`too many mutations for this token: retry in ${retryAfter} s`, retryAfter);
  }
  return {
    refusal,
    apolloPlugin: {
      async requestDidStart() {
        return {
          async didResolveOperation({ operation, contextValue }) {
            if (operation?.operation !== OperationTypeNode.MUTATION) return;
            const refused = await refusal(contextValue.principal);
            if (refused) throw refused;
          },
        };
      },
    },
  };
}
