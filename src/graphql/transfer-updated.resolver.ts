import { Arg, ID, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import type { TransferUpdate as TransferUpdateRecord } from "../domain/model.js";
import { requireScopes } from "./auth-checker.js";
import type { GraphQLContext } from "./context.js";
import { TransferUpdate } from "./transfer-update.type.js";

@Resolver(() => TransferUpdate)
export class TransferUpdatedResolver {
  @Subscription(() => TransferUpdate, {
    description: "The transfer's current state (event: null), then every stored event for it as it arrives",
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { id: string }, GraphQLContext>) => {
      requireScopes(context, ["transfers:read"]);
      return context.services.transfers.watch(context.principal!, args.id);
    },
  })
  transferUpdated(@Root() update: TransferUpdateRecord, @Arg("id", () => ID) _id: string): TransferUpdate {
    return TransferUpdate.from(update);
  }
}
