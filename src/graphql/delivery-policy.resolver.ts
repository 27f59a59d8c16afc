import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from "type-graphql";
import { callerOf, type GraphQLContext } from "./context.js";
import { DeliveryPolicyInput } from "./delivery-policy.input.js";
import { DeliveryPolicy } from "./delivery-policy.type.js";

@Resolver(() => DeliveryPolicy)
export class DeliveryPolicyResolver {
  @Authorized("transfers:read")
  @Query(() => DeliveryPolicy, { description: "The tenant's delivery and fallback policy (the default until set)" })
  async deliveryPolicy(@Ctx() context: GraphQLContext): Promise<DeliveryPolicy> {
    return DeliveryPolicy.from(await context.services.deliveryPolicies.get(context.principal!));
  }

  @Authorized("transfers:write")
  @Mutation(() => DeliveryPolicy, { description: "Replaces the tenant's delivery policy for transfers created from now on (audited)" })
  async setDeliveryPolicy(@Arg("input", () => DeliveryPolicyInput) input: DeliveryPolicyInput, @Ctx() context: GraphQLContext): Promise<DeliveryPolicy> {
    return DeliveryPolicy.from(await context.services.deliveryPolicies.set(callerOf(context), { ...input }));
  }
}
