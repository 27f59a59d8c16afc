/** Raised instead of waiting on a database that does not answer: the caller answers 503 and is retried. */
export class DatabaseUnavailableError extends Error {
  override readonly name = "DatabaseUnavailableError";
}

/** postgres.js and Node name a connection that failed, closed or never opened with these codes. */
const CONNECTION_FAILURES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs of a server that cannot serve now: connection exceptions (class 08), shutting down or
 * starting (57P01–57P03), a statement cancelled by `statement_timeout` (57014), no connection
 * slot left (53300).
 */
function serverUnavailable(sqlState: string): boolean {
  return sqlState.startsWith("08") || ["57P01", "57P02", "57P03", "57014", "53300"].includes(sqlState);
}

/**
 * True when an error says "the database cannot answer now, retry" rather than "this request is
 * wrong": the gate's deadline, a connection that failed, a server shutting down. drizzle wraps the
 * driver's error, so causes are followed.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    if (current instanceof DatabaseUnavailableError) return true;
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && (CONNECTION_FAILURES.has(code) || serverUnavailable(code))) return true;
  }
  return false;
}

export interface DatabaseGateOptions {
  /** The longest a caller waits for the database before it is told to retry. */
  timeoutMs: number;
  /** Consecutive failures after which callers are refused at once… */
  failureThreshold: number;
  /** …for this long, before the next caller may try again. */
  openMs: number;
}

/**
 * Bounds how long a request waits on the database. postgres.js queues queries while it
 * reconnects, with a backoff of up to 20 s, so without a deadline a webhook or a readiness probe
 * would hang through an outage instead of being told to retry. After repeated failures the gate
 * opens and refuses at once, so an outage does not pile up waiting requests; it closes again on
 * the first success, with no restart. Only unavailability counts as a failure: a request refused
 * for its own sake (not found, a conflict) says nothing about the database.
 */
export class DatabaseGate {
  private consecutiveFailures = 0;
  private openUntil = 0;

  constructor(private readonly options: DatabaseGateOptions) {}

  get open(): boolean {
    return Date.now() < this.openUntil;
  }

  async run<T>(work: () => Promise<T>, timeoutMs = this.options.timeoutMs): Promise<T> {
    if (this.open) throw new DatabaseUnavailableError("database unavailable after repeated failures, retry later");
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new DatabaseUnavailableError(`database did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const result = await Promise.race([work(), deadline]);
      this.consecutiveFailures = 0;
      return result;
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        this.consecutiveFailures += 1;
        if (this.consecutiveFailures >= this.options.failureThreshold) this.openUntil = Date.now() + this.options.openMs;
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
