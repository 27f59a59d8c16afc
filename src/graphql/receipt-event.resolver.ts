import { Arg, Authorized, Ctx, Int, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "./context.js";
import { withoutNulls } from "./inputs.js";
import { ReceiptEventFilter } from "./receipt-event-filter.input.js";
import { ReceiptEvent, ReceiptEventConnection } from "./receipt-event.type.js";

@Resolver(() => ReceiptEvent)
export class ReceiptEventResolver {
  @Authorized("receipts:read")
  @Query(() => ReceiptEventConnection, { description: "The tenant's receipt history, newest last, with keyset cursors" })
  async receiptEvents(
    @Ctx() context: GraphQLContext,
    @Arg("filter", () => ReceiptEventFilter, { nullable: true }) filter?: ReceiptEventFilter,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first?: number,
    @Arg("after", () => String, { nullable: true }) after?: string,
  ): Promise<ReceiptEventConnection> {
    const page = await context.services.history.list(context.principal!, withoutNulls({ ...filter }), first ?? 50, after ?? undefined);
    return {
      edges: page.edges.map(({ cursor, node }) => ({ cursor, node: ReceiptEvent.from(node) })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
    };
  }
}
