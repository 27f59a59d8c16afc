/** Per-domain error codes; `src/graphql/errors.ts` maps them to GraphQL `extensions.code` in one place. */
export type DomainErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "BAD_USER_INPUT"
  | "NOT_FOUND"
  | "CONFLICT"
  | "FAILED_PRECONDITION"
  /** A subscription ended because updates may have been lost; its `cursor` detail resumes it. */
  | "SUBSCRIPTION_INTERRUPTED";

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "DomainError";
  }
}
