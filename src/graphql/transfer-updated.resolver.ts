import { Arg, ID, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import type { TransferUpdate as TransferUpdateRecord } from "../domain/model.js";
import { requireScopes } from "./auth-checker.js";
import type { GraphQLContext } from "./context.js";
import { TransferUpdate } from "./transfer-update.type.js";

@Resolver(() => TransferUpdate)
export class TransferUpdatedResolver {
  @Subscription(() => TransferUpdate, {
    description:
      "The transfer's current state (event: null), then every stored event for it as it arrives. With `after` (a cursor it gave), " +
      "every update after that one instead, from the event log, then live. Ends with SUBSCRIPTION_INTERRUPTED (extensions.cursor) when updates may have been lost: subscribe again with that cursor",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { id: string; after?: string | null }, GraphQLContext>) => {
      requireScopes(context, ["transfers:read"]);
      return context.services.transferFeed.watch(context.principal!, args.id, args.after, context.budget);
    },
  })
  transferUpdated(
    @Root() update: TransferUpdateRecord,
    @Arg("id", () => ID) _id: string,
    @Arg("after", () => String, { nullable: true, description: "A cursor from an update of this transfer: resume after it" }) _after?: string | null,
  ): TransferUpdate {
    return TransferUpdate.from(update);
  }
}
