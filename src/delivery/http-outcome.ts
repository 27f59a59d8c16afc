/**
 * What the HTTP send adapters share when they classify a provider's answer: the `Retry-After`
 * header (RFC 9110: delay-seconds or an HTTP-date) and which statuses are worth a retry.
 */

/** `Retry-After` in milliseconds from now: seconds or an HTTP-date; absent or unparsable → undefined. */
export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** 408 (request timeout), 429 (rate limited) and 5xx are transient; every other 4xx is permanent. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** A JSON body, or undefined when the text is not JSON (proxies answer HTML error pages). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
