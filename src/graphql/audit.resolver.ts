import { Arg, Authorized, Ctx, ID, Query, Resolver } from "type-graphql";
import { AuditEntry } from "./audit-entry.type.js";
import { AuditVerification } from "./audit-verification.type.js";
import type { GraphQLContext } from "./context.js";

@Resolver()
export class AuditResolver {
  @Authorized("transfers:read")
  @Query(() => [AuditEntry], { description: "The audit log's entries about one transfer, in chain order (another tenant's transfer is NOT_FOUND)" })
  async auditTrail(@Arg("transferId", () => ID) transferId: string, @Ctx() context: GraphQLContext): Promise<AuditEntry[]> {
    return (await context.services.audit.trail(context.principal!, transferId)).map((entry) => AuditEntry.from(entry));
  }

  @Authorized("audit:read")
  @Query(() => AuditVerification, { description: "Recomputes the caller's tenant's audit chain and says where it first breaks, if it does" })
  async verifyAuditLog(@Ctx() context: GraphQLContext): Promise<AuditVerification> {
    return Object.assign(new AuditVerification(), await context.services.audit.verify(context.principal!));
  }
}
