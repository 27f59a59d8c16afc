import { randomBytes } from "node:crypto";

/**
 * Opaque, URL-safe ids with a readable prefix (`tx_…`, `msg_…`, `dl_…` for downloads, `whs_…` for
 * webhook sources, whose id in a URL is all that lets a delivery in: 128 bits).
 */
export function newId(prefix: "tx" | "msg" | "dl" | "whs"): string {
  return `${prefix}_${randomBytes(prefix === "whs" ? 16 : 12).toString("base64url")}`;
}
