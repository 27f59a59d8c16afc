import { sql } from "drizzle-orm";
import { DomainError } from "./errors.js";

/**
 * Keyset cursor over `(visible_xid, id)`: the order events became visible to the tenant. Ids and
 * provider times are handed out before commit, so an event with a smaller one can commit after a
 * page was read past it; a transaction id below every running transaction's of this database
 * (SETTLED_BELOW) cannot gain rows any more. Pages stop there, so a reader that follows
 * `endCursor` sees each event exactly once, however the writers' commits interleave.
 */
export function encodeEventCursor(row: { visibleXid: number; id: number }): string {
  return Buffer.from(`${row.visibleXid}|${row.id}`).toString("base64url");
}

export function decodeEventCursor(cursor: string): { visibleXid: string; id: string } {
  const [xid, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const isKey = (value: string | undefined): value is string => /^\d{1,18}$/.test(value ?? "");
  if (!isKey(xid) || !isKey(id)) {
    throw new DomainError("BAD_USER_INPUT", "after is not a cursor this API issued", { field: "after" });
  }
  return { visibleXid: xid, id };
}

/**
 * The transaction id below which every transaction of this database has ended (as of the
 * statement's snapshot): the snapshot's oldest in-progress transaction, leaving out those that
 * belong to another database of the server (they cannot write here, and a long one would hold
 * every page back). One whose database is unknown (it ended meanwhile, or is not ours to see)
 * counts, so the bound only ever errs towards waiting.
 */
export const SETTLED_BELOW = sql.raw(`SELECT least((pg_snapshot_xmax(s)::text)::bigint,
    (SELECT min((x::text)::bigint) FROM pg_snapshot_xip(s) AS x WHERE (x::text)::bigint % 4294967296 NOT IN (
      SELECT (backend_xid::text)::bigint FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database())))
  FROM pg_current_snapshot() AS s`);

/** Larger than any event id: `(xid, LAST_ID)` is the position after every event of transaction `xid`. */
const LAST_ID = "999999999999999999";

/**
 * The cursor a live event carries: the position before every transaction still running when it
 * was folded, its own included. A client resuming from it may get some events again (drop them by
 * id) but never misses one, whichever of the concurrent transactions commits first.
 */
export function liveEventCursor(settledBelow: number): string {
  return Buffer.from(`${settledBelow - 1}|${LAST_ID}`).toString("base64url");
}
