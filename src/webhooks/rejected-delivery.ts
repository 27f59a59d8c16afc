import { createHash } from "node:crypto";

/** How much of a refused body the log keeps: enough to see what was wrong, bounded whatever was sent. */
const EXCERPT_BYTES = 2048;

/**
 * What the process log keeps of a delivery refused as malformed, for inspection: its size, its
 * SHA-256 (to match the provider's own record of it) and its first 2 KiB. The delivery log keeps
 * the whole body too, but only within its budget for refusals; this line is always written.
 */
export function rejectedDeliveryEvidence(rawBody: Buffer): { bytes: number; sha256: string; excerpt: string } {
  return {
    bytes: rawBody.length,
    sha256: createHash("sha256").update(rawBody).digest("hex"),
    excerpt: rawBody.subarray(0, EXCERPT_BYTES).toString("utf8"),
  };
}
