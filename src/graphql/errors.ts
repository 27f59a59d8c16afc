import type { ApolloServerPlugin } from "@apollo/server";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { ArgumentValidationError, AuthenticationError, AuthorizationError } from "type-graphql";
import { isDatabaseUnavailable } from "../db/availability.js";
import { DomainError } from "../domain/errors.js";
import type { Logger } from "../logger.js";

/** Why an operation is refused before it runs: beyond a limit, or carrying input no field can take. */
export type RefusalCode = "QUERY_TOO_COMPLEX" | "BAD_USER_INPUT";

/** An operation refused before it runs (400 over HTTP). Over graphql-ws the same error ends the operation. */
export class OperationRefusedError extends GraphQLError {
  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message, { extensions: { ...details, code, http: { status: 400 } } });
  }
}

/**
 * Past a rate limit or a cap: RATE_LIMITED, with `retryAfter` seconds when waiting helps (over
 * HTTP then also 429 and `Retry-After`). Thrown from the context or an Apollo hook, Apollo applies
 * `http`; graphql-ws sends the error as it is.
 */
export function rateLimited(message: string, retryAfterSeconds?: number): GraphQLError {
  if (retryAfterSeconds === undefined) return new GraphQLError(message, { extensions: { code: "RATE_LIMITED" } });
  return new GraphQLError(message, {
    extensions: { code: "RATE_LIMITED", retryAfter: retryAfterSeconds, http: { status: 429, headers: new Map([["retry-after", String(retryAfterSeconds)]]) } },
  });
}

/** A variable that cannot be coerced to its type: BAD_USER_INPUT, as Apollo says over HTTP. */
export function badUserInput(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, code: "BAD_USER_INPUT" } });
}

/** The one place where domain and framework errors become GraphQL `extensions.code`. */
function codeOf(error: unknown): string | undefined {
  if (error instanceof DomainError || error instanceof OperationRefusedError) return error.code;
  // The database is down, hangs or is shutting down: the client retries, as a provider would after a 503.
  if (isDatabaseUnavailable(error)) return "SERVICE_UNAVAILABLE";
  if (error instanceof AuthenticationError) return "UNAUTHENTICATED";
  // type-graphql's @Authorized says UNAUTHORIZED for a missing role: to clients that is FORBIDDEN.
  if (error instanceof AuthorizationError) return "FORBIDDEN";
  if (error instanceof ArgumentValidationError) return "BAD_USER_INPUT";
  return undefined;
}

/** The error at the bottom of the wrappers graphql-js and Apollo put around it. */
function innermost(error: unknown): unknown {
  let current = error;
  while (current instanceof GraphQLError && current.originalError) current = current.originalError;
  return current;
}

/** graphql-js stops parsing past `maxTokens` with a syntax error; to clients that is a limit like the others. */
const TOKEN_LIMIT = /^Syntax Error: Document contains more tha[nt] (\d+) tokens\./;

/** A document refused while parsing because of its size: past `maxTokens`, or nested beyond the parser's recursion. */
function documentTooLarge(formatted: GraphQLFormattedError, original: unknown): GraphQLFormattedError | undefined {
  const tokenLimit = TOKEN_LIMIT.exec(formatted.message);
  if (tokenLimit) {
    const maximum = Number(tokenLimit[1]);
    return { message: `the document has more than ${maximum} tokens`, extensions: { code: "QUERY_TOO_COMPLEX", limit: "tokens", maximum } };
  }
  if (original instanceof RangeError) {
    return { message: "the document is nested too deep to parse", extensions: { code: "QUERY_TOO_COMPLEX", limit: "nesting" } };
  }
  return undefined;
}

/** graphql-js names the fields a misspelling was close to: with introspection off that would leak the schema. */
const SUGGESTION = / ?Did you mean .+\?$/s;

export interface GraphQLErrorFormatter {
  /** Apollo's `formatError`. */
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** The same for errors that never pass through Apollo (graphql-ws). */
  formatErrors: (errors: readonly GraphQLError[]) => GraphQLFormattedError[];
}

/**
 * Coded errors keep their message and code; anything else unexpected is logged and reaches the
 * client as a bare INTERNAL_SERVER_ERROR. No stack trace is ever added here.
 */
export function createErrorFormatter(options: { log: Logger; hideSuggestions: boolean }): GraphQLErrorFormatter {
  function format(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
    const original = innermost(error);
    const code = codeOf(original);
    if (code === "SERVICE_UNAVAILABLE") {
      // The driver's message names hosts and ports; the client only needs to know to retry.
      options.log.warn({ err: original, path: formatted.path }, "GraphQL operation refused: database unavailable");
      return { message: "the database is unavailable, retry later", locations: formatted.locations, path: formatted.path, extensions: { code } };
    }
    if (code) {
      const details = original instanceof DomainError || original instanceof OperationRefusedError ? original.details : undefined;
      return { ...formatted, message: (original as Error).message, extensions: { ...details, code } };
    }
    if (formatted.extensions?.code === "INTERNAL_SERVER_ERROR") {
      options.log.error({ err: original, path: formatted.path }, "GraphQL operation failed");
      return { message: "internal server error", locations: formatted.locations, path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR" } };
    }
    if (formatted.extensions?.code === "GRAPHQL_PARSE_FAILED") {
      const tooLarge = documentTooLarge(formatted, original);
      if (tooLarge) return tooLarge;
    }
    // GraphQL's own parse, validation and input errors already carry a code.
    return options.hideSuggestions ? { ...formatted, message: formatted.message.replace(SUGGESTION, "") } : formatted;
  }

  return {
    formatError: format,
    formatErrors: (errors) =>
      errors.map((error) => {
        const formatted = error.toJSON();
        // Without a code of its own, an error of the execution (it has a path) is internal; any other is validation's.
        const fallbackCode = error.originalError || error.path ? "INTERNAL_SERVER_ERROR" : "GRAPHQL_VALIDATION_FAILED";
        return format({ ...formatted, extensions: { code: fallbackCode, ...formatted.extensions } }, error);
      }),
  };
}

/**
 * Over HTTP an operation refused for want of a good token answers 401, whether the token was
 * missing (refused by a resolver) or bad (refused with the context, already 401).
 */
export const unauthenticatedIs401: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind !== "single") return;
        if (response.body.singleResult.errors?.some((error) => error.extensions?.code === "UNAUTHENTICATED")) {
          response.http.status = 401;
        }
      },
    };
  },
};
