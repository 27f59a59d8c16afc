import type { AuthChecker } from "type-graphql";
import type { Scope } from "../auth/access-tokens.js";
import { DomainError } from "../domain/errors.js";
import type { GraphQLContext } from "./context.js";

/** No token is UNAUTHENTICATED; a token without the scope is FORBIDDEN. */
export function requireScopes(context: GraphQLContext, scopes: readonly Scope[]): void {
  if (!context.principal) throw new DomainError("UNAUTHENTICATED", "an access token is required");
  const missing = scopes.filter((scope) => !context.principal!.scopes.has(scope));
  if (missing.length > 0) throw new DomainError("FORBIDDEN", `the access token lacks scope ${missing.join(", ")}`);
}

export const authChecker: AuthChecker<GraphQLContext, Scope> = ({ context }, scopes) => {
  requireScopes(context, scopes);
  return true;
};
