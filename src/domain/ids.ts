import { randomBytes } from "node:crypto";

/**
 * Opaque, URL-safe ids with a readable prefix (`tx_…`, `msg_…`, `dl_…` for downloads, `whs_…` for
 * webhook sources, whose id in a URL is all that lets a delivery in: 128 bits).
 */
export function newId(prefix: "tx" | "msg" | "dl" | "whs"): string {
  return `${prefix}_${randomBytes(prefix === "whs" ? 16 : 12).toString("base64url")}`;
}

const timeHex = (at: Date) => at.getTime().toString(16).padStart(12, "0");
const asUuid = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/** A logged webhook delivery's id: a UUIDv7, whose first 48 bits are `at` in milliseconds, so ids sort by receipt time. */
export function newDeliveryId(at: Date): string {
  const random = randomBytes(10);
  random[0] = (random[0]! & 0x0f) | 0x70; // version 7
  random[2] = (random[2]! & 0x3f) | 0x80; // RFC 4122 variant
  return asUuid(timeHex(at) + random.toString("hex"));
}

/** Below every delivery id of `at` or later: the log's rows before `at` are exactly the ids under it. */
export function deliveryIdFloor(at: Date): string {
  return asUuid(timeHex(at).padEnd(32, "0"));
}
