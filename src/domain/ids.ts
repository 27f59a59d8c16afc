import { randomBytes } from "node:crypto";

/** Opaque, URL-safe ids with a readable prefix (`tx_…`, `msg_…`, `dl_…` for downloads). */
export function newId(prefix: "tx" | "msg" | "dl"): string {
  return `${prefix}_${randomBytes(12).toString("base64url")}`;
}
