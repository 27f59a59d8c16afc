import { sql } from "drizzle-orm";
import type { Queryable, Transaction } from "../db/client.js";
import { selectRows, timestamp } from "../db/sql.js";
import type { Caller } from "./caller.js";

/*
 * The audit log is a hash chain per tenant. Row n carries `seq` = n, `prev_hash` = row n-1's hash
 * (64 zeros for row 1) and `hash` = hex SHA-256(prev_hash ‖ canonical JSON of its content), where
 * the content is {tenant_id, seq, at (UTC, ms), actor, action, transfer_id, ip, client, details}
 * and canonical JSON sorts object keys by their UTF-8 bytes, without whitespace. The definition
 * lives once, in SQL (the custom migration drizzle/*_audit_chain_backfill.sql: audit_entry_content, audit_entry_hash),
 * so writing, backfilling and verifying cannot disagree.
 */

/** The first row's `prev_hash`. */
export const GENESIS_HASH = "0".repeat(64);
/** First key of the per-tenant advisory lock (the second is the tenant's hash): its own key space. */
const AUDIT_LOCK_CLASS = 4_242_002;

/**
 * Appends to the audit log, in the caller's transaction: who, when, from where, what. Writers of
 * one tenant queue on an advisory lock held until their commit, and the row is read and written
 * in a statement of its own after it (a fresh snapshot), so concurrent writers never fork the
 * chain; the unique (tenant, seq) index would refuse a fork anyway.
 */
export async function recordAudit(
  tx: Transaction,
  caller: Caller,
  action: string,
  transferId: string | null,
  details: Record<string, unknown>,
  now: Date,
): Promise<void> {
  const { tenantId } = caller.principal;
  // Pipelined on the transaction's connection: PostgreSQL runs the insert once the lock is held.
  await Promise.all([
    tx.execute(sql`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_CLASS}, hashtext(${tenantId}))`),
    tx.execute(sql`
      INSERT INTO audit_log (tenant_id, seq, prev_hash, hash, actor, action, transfer_id, ip, client, details, at)
      SELECT e.tenant_id, e.seq, e.prev_hash,
             audit_entry_hash(e.prev_hash, audit_entry_content(e.tenant_id, e.seq, e.at, e.actor, e.action, e.transfer_id, e.ip, e.client, e.details)),
             e.actor, e.action, e.transfer_id, e.ip, e.client, e.details, e.at
      FROM (SELECT ${tenantId}::text AS tenant_id, coalesce(last.seq, 0) + 1 AS seq, coalesce(last.hash, ${GENESIS_HASH}) AS prev_hash,
                   ${caller.principal.subject}::text AS actor, ${action}::text AS action, ${transferId}::text AS transfer_id,
                   ${caller.ip ?? null}::text AS ip, ${caller.client ?? null}::text AS client, ${JSON.stringify(details)}::jsonb AS details,
                   ${timestamp(now)}::timestamptz AS at
            FROM (SELECT 1) AS one
            LEFT JOIN LATERAL (SELECT seq, hash FROM audit_log WHERE tenant_id = ${tenantId} ORDER BY seq DESC LIMIT 1) AS last ON true) AS e`),
  ]);
}

export interface AuditEntryRecord {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  ip: string | null;
  client: string | null;
  transferId: string | null;
  details: Record<string, unknown>;
  hash: string;
  prevHash: string;
}

/** The tenant's audit entries about one transfer, in chain order. */
export async function auditTrailOf(db: Queryable, tenantId: string, transferId: string): Promise<AuditEntryRecord[]> {
  const rows = await selectRows<{
    seq: string | number;
    at: string | Date;
    actor: string;
    action: string;
    ip: string | null;
    client: string | null;
    transfer_id: string | null;
    details: Record<string, unknown>;
    hash: string;
    prev_hash: string;
  }>(db, sql`SELECT seq, at, actor, action, ip, client, transfer_id, details, hash, prev_hash FROM audit_log WHERE tenant_id = ${tenantId} AND transfer_id = ${transferId} ORDER BY seq`);
  return rows.map((row) => ({
    seq: Number(row.seq),
    at: new Date(row.at),
    actor: row.actor,
    action: row.action,
    ip: row.ip,
    client: row.client,
    transferId: row.transfer_id,
    details: row.details,
    hash: row.hash,
    prevHash: row.prev_hash,
  }));
}

export interface AuditVerification {
  valid: boolean;
  entries: number;
  /** Where the stored chain first disagrees with itself: an edited row's seq, a removed row's, or the first of reordered ones. */
  firstBrokenSeq: number | null;
}

/**
 * Recomputes the tenant's chain from the stored rows: each row's hash from its content and
 * prev_hash, each prev_hash against the row before, and the seqs 1, 2, 3… without a gap.
 */
export async function verifyAuditChain(db: Queryable, tenantId: string): Promise<AuditVerification> {
  const rows = await selectRows<{ seq: string | number; prev_hash: string; hash: string; recomputed: string }>(
    db,
    sql`SELECT seq, prev_hash, hash,
               audit_entry_hash(prev_hash, audit_entry_content(tenant_id, seq, at, actor, action, transfer_id, ip, client, details)) AS recomputed
        FROM audit_log WHERE tenant_id = ${tenantId} ORDER BY seq, id`,
  );
  let expectedSeq = 1;
  let previousHash = GENESIS_HASH;
  for (const row of rows) {
    const seq = Number(row.seq);
    if (seq !== expectedSeq) return { valid: false, entries: rows.length, firstBrokenSeq: Math.min(seq, expectedSeq) };
    if (row.prev_hash !== previousHash || row.recomputed !== row.hash) return { valid: false, entries: rows.length, firstBrokenSeq: seq };
    previousHash = row.hash;
    expectedSeq += 1;
  }
  return { valid: true, entries: rows.length, firstBrokenSeq: null };
}
