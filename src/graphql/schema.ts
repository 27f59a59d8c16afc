import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { buildSchema, type PubSub } from "type-graphql";
import { AuditResolver } from "./audit.resolver.js";
import { authChecker } from "./auth-checker.js";
import { boundByDatabaseGate } from "./database-deadline.js";
import { DownloadReceiptResolver } from "./download-receipt.resolver.js";
import { DeliveryPolicyResolver } from "./delivery-policy.resolver.js";
import { SecurityPolicyResolver } from "./security-policy.resolver.js";
import { MessageResolver } from "./message.resolver.js";
import { ReceiptEventResolver } from "./receipt-event.resolver.js";
import { ReceiptStatsResolver } from "./receipt-stats.resolver.js";
import { SuppressionResolver } from "./suppression.resolver.js";
import { TenantFeedResolver } from "./tenant-feed.resolver.js";
import { TransferUpdatedResolver } from "./transfer-updated.resolver.js";
import { TransferResolver } from "./transfer.resolver.js";
import { WebhookDeliveryResolver } from "./webhook-delivery.resolver.js";
import { WebhookSourceResolver } from "./webhook-source.resolver.js";

/**
 * Every subscription here brings its own `subscribe` (it checks the tenant and yields the current
 * state first), yet type-graphql insists on a pubSub: this one says so if anything reaches it.
 */
const ownSubscribeOnly: PubSub = {
  publish: () => {
    throw new Error("publish through TransferEvents, not type-graphql");
  },
  subscribe: () => {
    throw new Error("subscriptions provide their own subscribe function");
  },
};

export async function buildGraphQLSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [
      TransferResolver,
      MessageResolver,
      ReceiptEventResolver,
      ReceiptStatsResolver,
      SuppressionResolver,
      DeliveryPolicyResolver,
      SecurityPolicyResolver,
      TransferUpdatedResolver,
      TenantFeedResolver,
      WebhookSourceResolver,
      WebhookDeliveryResolver,
      AuditResolver,
      DownloadReceiptResolver,
    ],
    authChecker,
    pubSub: ownSubscribeOnly,
    // Input is validated once, in the domain services (zod), not twice.
    validate: false,
  });
  return boundByDatabaseGate(schema);
}
