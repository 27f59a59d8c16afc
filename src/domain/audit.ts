import type { Transaction } from "../db/client.js";
import { auditLog } from "../db/schema.js";
import type { Caller } from "./caller.js";

/** Appends to the audit log, in the caller's transaction: who, when, from where, what. */
export async function recordAudit(
  tx: Transaction,
  caller: Caller,
  action: string,
  transferId: string | null,
  details: Record<string, unknown>,
  now: Date,
): Promise<void> {
  await tx.insert(auditLog).values({
    tenantId: caller.principal.tenantId,
    actor: caller.principal.subject,
    action,
    transferId,
    ip: caller.ip ?? null,
    client: caller.client ?? null,
    details,
    at: now,
  });
}
