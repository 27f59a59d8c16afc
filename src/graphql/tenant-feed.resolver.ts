import { Arg, Resolver, Root, Subscription, type SubscribeResolverData } from "type-graphql";
import type { ReceiptEventRecord, TransferUpdate as TransferUpdateRecord } from "../domain/model.js";
import { requireScopes } from "./auth-checker.js";
import type { GraphQLContext } from "./context.js";
import { withoutNulls } from "./inputs.js";
import { ReceiptEventFilter } from "./receipt-event-filter.input.js";
import { ReceiptEvent } from "./receipt-event.type.js";
import { TransferUpdate } from "./transfer-update.type.js";

const RESUME =
  "Ends with SUBSCRIPTION_INTERRUPTED when updates may have been lost, and a socket with more live updates waiting than WS_MAX_BUFFERED_UPDATES is closed with 4429: ";

/** The tenant's live streams: every change of its transfers, every new receipt event. */
@Resolver()
export class TenantFeedResolver {
  @Subscription(() => TransferUpdate, {
    description: `Every change of any of the tenant's transfers, as it happens (event: null when no event made it, as at creation). ${RESUME}subscribe again, and catch up with transferUpdated(id, after: cursor) or the transfers query`,
    subscribe: ({ context }: SubscribeResolverData<unknown, object, GraphQLContext>) => {
      requireScopes(context, ["transfers:read"]);
      return context.services.tenantFeed.watchTransfers(context.principal!, context.budget);
    },
  })
  transfersUpdated(@Root() update: TransferUpdateRecord): TransferUpdate {
    return TransferUpdate.from(update);
  }

  @Subscription(() => ReceiptEvent, {
    description: `Every new receipt event of the tenant that matches the filter (the same filter as receiptEvents). ${RESUME}subscribe again, then read receiptEvents(filter, after: the last event's cursor)`,
    subscribe: ({ args, context }: SubscribeResolverData<unknown, { filter?: ReceiptEventFilter | null }, GraphQLContext>) => {
      requireScopes(context, ["receipts:read"]);
      return context.services.tenantFeed.watchEvents(context.principal!, withoutNulls({ ...args.filter }), context.budget);
    },
  })
  receiptEventAdded(
    @Root() event: ReceiptEventRecord,
    @Arg("filter", () => ReceiptEventFilter, { nullable: true }) _filter?: ReceiptEventFilter | null,
  ): ReceiptEvent {
    return ReceiptEvent.from(event);
  }
}
