import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from "type-graphql";
import { callerOf, type GraphQLContext } from "./context.js";
import { SecurityPolicyInput } from "./security-policy.input.js";
import { SecurityPolicy } from "./security-policy.type.js";

@Resolver(() => SecurityPolicy)
export class SecurityPolicyResolver {
  @Authorized("transfers:read")
  @Query(() => SecurityPolicy, { description: "The tenant's security policy: link TTL, downloads, OTP, compliance mode, residency (the default until set)" })
  async securityPolicy(@Ctx() context: GraphQLContext): Promise<SecurityPolicy> {
    return SecurityPolicy.from(await context.services.securityPolicies.get(context.principal!));
  }

  @Authorized("transfers:write")
  @Mutation(() => SecurityPolicy, { description: "Replaces the tenant's security policy for transfers created from now on (audited)" })
  async setSecurityPolicy(@Arg("input", () => SecurityPolicyInput) input: SecurityPolicyInput, @Ctx() context: GraphQLContext): Promise<SecurityPolicy> {
    return SecurityPolicy.from(await context.services.securityPolicies.set(callerOf(context), { ...input }));
  }
}
