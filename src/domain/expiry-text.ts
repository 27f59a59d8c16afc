/** `2026-01-24 15:04 UTC`: an expiry as a recipient reads it (minute precision, always UTC). */
export function formatExpiry(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
