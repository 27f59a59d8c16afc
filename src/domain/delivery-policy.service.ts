import { eq } from "drizzle-orm";
import type { Principal } from "../auth/access-tokens.js";
import type { Database, Queryable } from "../db/client.js";
import { deliveryPolicies } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import { type DeliveryPolicy, deliveryPolicySchema, policyOf } from "./delivery-policy.js";
import type { Caller } from "./caller.js";
import { parseInput } from "./validation.js";

/** A tenant's policy as it stands, with who set it last (null: the default, never set). */
export interface StoredDeliveryPolicy {
  policy: DeliveryPolicy;
  updatedBy: string | null;
  updatedAt: Date | null;
}

export async function tenantDeliveryPolicy(db: Queryable, tenantId: string): Promise<StoredDeliveryPolicy> {
  const [row] = await db.select().from(deliveryPolicies).where(eq(deliveryPolicies.tenantId, tenantId));
  return { policy: policyOf(row?.policy), updatedBy: row?.updatedBy ?? null, updatedAt: row?.updatedAt ?? null };
}

/** Reads and replaces a tenant's delivery policy; new transfers take it, existing ones keep theirs. */
export class DeliveryPolicyService {
  constructor(private readonly db: Database) {}

  get(principal: Principal): Promise<StoredDeliveryPolicy> {
    return tenantDeliveryPolicy(this.db, principal.tenantId);
  }

  async set(caller: Caller, input: DeliveryPolicy, now = new Date()): Promise<StoredDeliveryPolicy> {
    const policy = parseInput(deliveryPolicySchema, input);
    const { tenantId, subject } = caller.principal;
    await this.db.transaction(async (tx) => {
      const before = await tenantDeliveryPolicy(tx, tenantId);
      await tx
        .insert(deliveryPolicies)
        .values({ tenantId, policy, updatedBy: subject, updatedAt: now })
        .onConflictDoUpdate({ target: deliveryPolicies.tenantId, set: { policy, updatedBy: subject, updatedAt: now } });
      await recordAudit(tx, caller, "delivery_policy.set", null, { before: before.policy, after: policy }, now);
    });
    return { policy, updatedBy: subject, updatedAt: now };
  }
}
