import { DomainError } from "./errors.js";

/*
 * A subscriber's place in a transfer's updates: the transfer and the sequence number of the last
 * event it received. Opaque to clients; it names its transfer, so it resumes no other.
 */

export function encodeTransferCursor(transferId: string, seq: number): string {
  return Buffer.from(`${transferId}:${seq}`).toString("base64url");
}

const CURSOR = /^(.+):(0|[1-9]\d{0,14})$/;

/** The sequence number after which `transferId`'s updates resume; BAD_USER_INPUT for anything this API did not issue for it. */
export function decodeTransferCursor(transferId: string, cursor: string): number {
  const match = /^[A-Za-z0-9_-]+$/.test(cursor) ? CURSOR.exec(Buffer.from(cursor, "base64url").toString("utf8")) : null;
  if (!match || match[1] !== transferId) {
    throw new DomainError("BAD_USER_INPUT", `after is not a cursor this API issued for transfer ${transferId}`, { field: "after" });
  }
  return Number(match[2]);
}
