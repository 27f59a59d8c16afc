import { createHash } from "node:crypto";

/** How much of a refused body the log keeps: enough to see what was wrong, bounded whatever was sent. */
const EXCERPT_BYTES = 2048;

/**
 * What the log keeps of a delivery refused as malformed, for inspection: its size, its SHA-256
 * (to match the provider's own record of it) and its first 2 KiB. Nothing is stored in the
 * database: a refused delivery is never acknowledged, and a table would let anyone fill it.
 */
export function rejectedDeliveryEvidence(rawBody: Buffer): { bytes: number; sha256: string; excerpt: string } {
  return {
    bytes: rawBody.length,
    sha256: createHash("sha256").update(rawBody).digest("hex"),
    excerpt: rawBody.subarray(0, EXCERPT_BYTES).toString("utf8"),
  };
}
