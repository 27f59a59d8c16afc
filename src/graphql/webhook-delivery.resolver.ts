import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import type { WebhookDeliveryOutcome } from "../domain/model.js";
import { callerOf, type GraphQLContext } from "./context.js";
import { WebhookDeliveryOutcomeEnum } from "./enums.js";
import { ReplayResult, WebhookDelivery, WebhookDeliveryConnection } from "./webhook-delivery.type.js";

@Resolver(() => WebhookDelivery)
export class WebhookDeliveryResolver {
  @Authorized("webhooks:admin")
  @Query(() => WebhookDeliveryConnection, { description: "Deliveries through the tenant's webhook sources, newest first, with their raw bodies" })
  async webhookDeliveries(
    @Ctx() context: GraphQLContext,
    @Arg("sourceId", () => ID, { nullable: true }) sourceId?: string,
    @Arg("outcome", () => WebhookDeliveryOutcomeEnum, { nullable: true }) outcome?: WebhookDeliveryOutcome,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first?: number,
    @Arg("after", () => String, { nullable: true }) after?: string,
  ): Promise<WebhookDeliveryConnection> {
    const page = await context.services.webhookDeliveries.list(
      context.principal!,
      { sourceId: sourceId ?? undefined, outcome: outcome ?? undefined },
      first ?? 50,
      after ?? undefined,
    );
    return {
      edges: page.edges.map(({ cursor, node }) => ({ cursor, node: WebhookDelivery.from(node) })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
    };
  }

  @Authorized("webhooks:admin")
  @Mutation(() => ReplayResult, { description: "Normalizes logged deliveries again (no signature check) and appends their events; events already stored are duplicates" })
  replayWebhookDeliveries(@Arg("ids", () => [ID]) ids: string[], @Ctx() context: GraphQLContext): Promise<ReplayResult> {
    return context.services.webhookReplays.replay(callerOf(context), ids);
  }
}
