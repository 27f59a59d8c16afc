import { Arg, Authorized, Ctx, Query, Resolver } from "type-graphql";
import type { StatsDimension } from "../domain/receipt-stats.js";
import type { GraphQLContext } from "./context.js";
import { StatsDimensionEnum } from "./enums.js";
import { withoutNulls } from "./inputs.js";
import { ReceiptStatsFilter } from "./receipt-stats-filter.input.js";
import { ReceiptStatsRow } from "./receipt-stats.type.js";

@Resolver()
export class ReceiptStatsResolver {
  @Authorized("receipts:read")
  @Query(() => [ReceiptStatsRow], { description: "The tenant's delivery funnel and latencies, one row per group" })
  async receiptStats(
    @Ctx() context: GraphQLContext,
    @Arg("groupBy", () => [StatsDimensionEnum]) groupBy: StatsDimension[],
    @Arg("filter", () => ReceiptStatsFilter, { nullable: true }) filter?: ReceiptStatsFilter,
  ): Promise<ReceiptStatsRow[]> {
    return context.services.stats.stats(context.principal!, withoutNulls({ ...filter }), groupBy);
  }
}
