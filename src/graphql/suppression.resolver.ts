import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver } from "type-graphql";
import { callerOf, type GraphQLContext } from "./context.js";
import { withoutNulls } from "./inputs.js";
import { RemoveSuppressionInput, SuppressAddressInput } from "./suppression.input.js";
import { Suppression } from "./suppression.type.js";

@Resolver(() => Suppression)
export class SuppressionResolver {
  @Authorized("transfers:read")
  @Query(() => [Suppression], { description: "The tenant's suppression list, newest first" })
  async suppressions(@Ctx() context: GraphQLContext, @Arg("first", () => Int, { nullable: true, defaultValue: 100 }) first?: number): Promise<Suppression[]> {
    return (await context.services.suppressions.list(context.principal!, first ?? 100)).map((record) => Suppression.from(record));
  }

  @Authorized("transfers:write")
  @Mutation(() => Suppression, { description: "Stops notifying an address (an existing suppression is returned as it stands)" })
  async suppressAddress(@Arg("input", () => SuppressAddressInput) input: SuppressAddressInput, @Ctx() context: GraphQLContext): Promise<Suppression> {
    return Suppression.from(await context.services.suppressions.add(callerOf(context), withoutNulls({ ...input })));
  }

  @Authorized("transfers:write")
  @Mutation(() => Boolean, { description: "Lifts a suppression, recording the recipient's renewed consent; NOT_FOUND when not suppressed" })
  removeSuppression(@Arg("input", () => RemoveSuppressionInput) input: RemoveSuppressionInput, @Ctx() context: GraphQLContext): Promise<boolean> {
    return context.services.suppressions.remove(callerOf(context), withoutNulls({ ...input }));
  }
}
