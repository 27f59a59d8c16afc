import { eq } from "drizzle-orm";
import type { Principal } from "../auth/access-tokens.js";
import type { Database, Queryable } from "../db/client.js";
import { securityPolicies } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import type { Caller } from "./caller.js";
import { normalizedPolicy, type SecurityPolicy, securityPolicyOf, securityPolicySchema } from "./transfer-security.js";
import { parseInput } from "./validation.js";

/** A tenant's security policy as it applies, with who set it last (null: the default, never set). */
export interface StoredSecurityPolicy {
  policy: SecurityPolicy;
  updatedBy: string | null;
  updatedAt: Date | null;
}

export async function tenantSecurityPolicy(db: Queryable, tenantId: string): Promise<StoredSecurityPolicy> {
  const [row] = await db.select().from(securityPolicies).where(eq(securityPolicies.tenantId, tenantId));
  return { policy: securityPolicyOf(row?.policy), updatedBy: row?.updatedBy ?? null, updatedAt: row?.updatedAt ?? null };
}

/** Reads and replaces a tenant's security policy; new transfers take it, existing ones keep theirs. */
export class SecurityPolicyService {
  constructor(private readonly db: Database) {}

  get(principal: Principal): Promise<StoredSecurityPolicy> {
    return tenantSecurityPolicy(this.db, principal.tenantId);
  }

  /** Stored as it applies: with compliance mode on, its caps and retention are written into the policy. */
  async set(caller: Caller, input: SecurityPolicy, now = new Date()): Promise<StoredSecurityPolicy> {
    const policy = normalizedPolicy(parseInput(securityPolicySchema, input));
    const { tenantId, subject } = caller.principal;
    await this.db.transaction(async (tx) => {
      const before = await tenantSecurityPolicy(tx, tenantId);
      await tx
        .insert(securityPolicies)
        .values({ tenantId, policy, updatedBy: subject, updatedAt: now })
        .onConflictDoUpdate({ target: securityPolicies.tenantId, set: { policy, updatedBy: subject, updatedAt: now } });
      await recordAudit(tx, caller, "security_policy.set", null, { before: before.policy, after: policy }, now);
    });
    return { policy, updatedBy: subject, updatedAt: now };
  }
}
