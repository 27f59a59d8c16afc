import { and, eq } from "drizzle-orm";
import type { Principal } from "../auth/access-tokens.js";
import type { Database } from "../db/client.js";
import { transfers } from "../db/schema.js";
import { type AuditEntryRecord, type AuditVerification, auditTrailOf, verifyAuditChain } from "./audit.js";
import { DomainError } from "./errors.js";

/** Reading the tenant's tamper-evident audit log. */
export class AuditService {
  constructor(private readonly db: Database) {}

  /** Every audit entry about one of the tenant's transfers, in chain order; another tenant's is NOT_FOUND. */
  async trail(principal: Principal, transferId: string): Promise<AuditEntryRecord[]> {
    const [own] = await this.db
      .select({ id: transfers.id })
      .from(transfers)
      .where(and(eq(transfers.id, transferId), eq(transfers.tenantId, principal.tenantId)));
    if (!own) throw new DomainError("NOT_FOUND", `transfer ${transferId} not found`);
    return auditTrailOf(this.db, principal.tenantId, transferId);
  }

  /** Recomputes the caller's tenant's whole chain. */
  verify(principal: Principal): Promise<AuditVerification> {
    return verifyAuditChain(this.db, principal.tenantId);
  }
}
