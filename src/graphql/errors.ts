import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { ArgumentValidationError, AuthenticationError, AuthorizationError } from "type-graphql";
import { DomainError } from "../domain/errors.js";

/** The one place where domain and framework errors become GraphQL `extensions.code`. */
function codeOf(error: unknown): string | undefined {
  if (error instanceof DomainError) return error.code;
  if (error instanceof AuthenticationError) return "UNAUTHENTICATED";
  // type-graphql's @Authorized says UNAUTHORIZED for a missing role: to clients that is FORBIDDEN.
  if (error instanceof AuthorizationError) return "FORBIDDEN";
  if (error instanceof ArgumentValidationError) return "BAD_USER_INPUT";
  return undefined;
}

export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const code = codeOf(original);
  if (code) {
    const details = original instanceof DomainError ? original.details : undefined;
    return { ...formatted, message: (original as Error).message, extensions: { ...details, code } };
  }
  if (original instanceof GraphQLError || formatted.extensions?.code !== "INTERNAL_SERVER_ERROR") {
    // GraphQL's own validation and parse errors already carry a code (or are client errors).
    return formatted;
  }
  return { message: "internal server error", locations: formatted.locations, path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR" } };
}

/** The same mapping for errors that never pass through Apollo (graphql-ws). */
export function formatErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  return errors.map((error) => {
    const formatted = error.toJSON();
    return formatGraphQLError(
      { ...formatted, extensions: { code: formatted.extensions?.code ?? (error.originalError ? "INTERNAL_SERVER_ERROR" : "GRAPHQL_VALIDATION_FAILED"), ...formatted.extensions } },
      error,
    );
  });
}
