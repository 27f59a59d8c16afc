import DataLoader from "dataloader";
import type { Principal } from "../auth/access-tokens.js";
import type { DatabaseGate } from "../db/availability.js";
import type { AuditService } from "../domain/audit.service.js";
import type { Database } from "../db/client.js";
import { deliveryAttemptsOf } from "../domain/delivery-attempts.js";
import type { DeliveryAttemptRecord } from "../domain/model.js";
import type { SecurityPolicyService } from "../domain/security-policy.service.js";
import type { DeliveryPolicyService } from "../domain/delivery-policy.service.js";
import type { SuppressionService } from "../domain/suppression.service.js";
import type { ReceiptHistoryService } from "../domain/receipt-history.service.js";
import type { ReceiptStatsService } from "../domain/receipt-stats.service.js";
import type { TransferFeedService } from "../domain/transfer-feed.service.js";
import type { TenantFeedService } from "../domain/tenant-feed.service.js";
import type { SendBudget } from "../domain/live-updates.js";
import type { Caller } from "../domain/caller.js";
import type { DownloadReceipts } from "../domain/download-receipt.js";
import type { DownloadService } from "../domain/download.service.js";
import type { TransferService } from "../domain/transfer.service.js";
import type { WebhookDeliveryService } from "../domain/webhook-delivery.service.js";
import type { WebhookReplayService } from "../domain/webhook-replay.service.js";
import type { WebhookSourceService } from "../domain/webhook-source.service.js";

export interface GraphQLServices {
  db: Database;
  /** Bounds every operation's wait for the database (see database-deadline.ts). */
  databaseGate: DatabaseGate;
  transfers: TransferService;
  downloads: DownloadService;
  /** Signs and verifies download receipts. */
  receipts: DownloadReceipts;
  transferFeed: TransferFeedService;
  tenantFeed: TenantFeedService;
  history: ReceiptHistoryService;
  stats: ReceiptStatsService;
  suppressions: SuppressionService;
  deliveryPolicies: DeliveryPolicyService;
  securityPolicies: SecurityPolicyService;
  webhookSources: WebhookSourceService;
  webhookDeliveries: WebhookDeliveryService;
  webhookReplays: WebhookReplayService;
  audit: AuditService;
  /** `PUBLIC_BASE_URL`, or where this server listens: the base of the URLs handed out. */
  publicBaseUrl(): string;
}

/**
 * Per-operation batching: the messages of a transfer cost one query, not one each. No caching:
 * a subscription keeps its context for every event it carries, and attempts change meanwhile.
 */
export interface GraphQLLoaders {
  deliveryAttempts: DataLoader<string, DeliveryAttemptRecord[]>;
}

export function createLoaders(services: GraphQLServices): GraphQLLoaders {
  return {
    deliveryAttempts: new DataLoader(
      async (messageIds) => {
        const byMessage = await services.databaseGate.run(() => deliveryAttemptsOf(services.db, messageIds));
        return messageIds.map((id) => byMessage.get(id) ?? []);
      },
      { cache: false },
    ),
  };
}

/** Per operation, over HTTP and over graphql-ws alike. */
export interface GraphQLContext {
  principal: Principal | null;
  ip?: string;
  client?: string;
  services: GraphQLServices;
  loaders: GraphQLLoaders;
  /** Over graphql-ws: the socket's allowance for live updates not yet written to it. */
  budget?: SendBudget;
}

/** The caller behind an authorized operation (the auth checker has already run). */
export function callerOf(context: GraphQLContext): Caller {
  return { principal: context.principal!, ip: context.ip, client: context.client };
}
