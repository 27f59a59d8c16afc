import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "./context.js";
import { DeliveryAttempt } from "./delivery-attempt.type.js";
import { Message } from "./message.type.js";

@Resolver(() => Message)
export class MessageResolver {
  @FieldResolver(() => [DeliveryAttempt], { description: "Every send attempt so far, oldest first" })
  deliveryAttempts(@Root() message: Message, @Ctx() context: GraphQLContext): Promise<DeliveryAttempt[]> {
    return context.loaders.deliveryAttempts.load(message.id);
  }
}
