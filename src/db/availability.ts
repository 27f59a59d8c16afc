/** Raised instead of waiting on a database that does not answer: the caller answers 503 and is retried. */
export class DatabaseUnavailableError extends Error {
  override readonly name = "DatabaseUnavailableError";
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
 * the first success, with no restart.
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
      this.consecutiveFailures += 1;
      if (this.consecutiveFailures >= this.options.failureThreshold) this.openUntil = Date.now() + this.options.openMs;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
