import { registerEnumType } from "type-graphql";
import { CHANNELS, MESSAGE_STATUSES, RECEIPT_EVENT_TYPES, TRANSFER_STATUSES, WEBHOOK_DELIVERY_OUTCOMES } from "../domain/model.js";
import { STATS_DIMENSIONS } from "../domain/receipt-stats.js";

/** GraphQL enums built from the domain's lists, so the two can never disagree. */
export const asEnum = <T extends string>(values: readonly T[]) => Object.fromEntries(values.map((value) => [value, value])) as { [K in T]: K };

export const ChannelEnum = asEnum(CHANNELS);
export const TransferStatusEnum = asEnum(TRANSFER_STATUSES);
export const MessageStatusEnum = asEnum(MESSAGE_STATUSES);
export const ReceiptEventTypeEnum = asEnum(RECEIPT_EVENT_TYPES);
export const StatsDimensionEnum = asEnum(STATS_DIMENSIONS);

registerEnumType(ChannelEnum, { name: "Channel", description: "The channel a notification travels on" });
registerEnumType(TransferStatusEnum, { name: "TransferStatus", description: "Where a transfer stands, rebuilt from its messages" });
registerEnumType(MessageStatusEnum, { name: "MessageStatus", description: "Where one notification message stands" });
registerEnumType(ReceiptEventTypeEnum, { name: "ReceiptEventType", description: "The canonical receipt events" });
registerEnumType(StatsDimensionEnum, { name: "StatsDimension", description: "What receiptStats groups by; DAY is the UTC day a transfer was created" });

export const WebhookDeliveryOutcomeEnum = asEnum(WEBHOOK_DELIVERY_OUTCOMES);
registerEnumType(WebhookDeliveryOutcomeEnum, {
  name: "WebhookDeliveryOutcome",
  description: "How a webhook door answered a delivery: events stored, every event known already, or refused",
});
registerEnumType(StatsDimensionEnum, { name: "StatsDimension", description: "What receiptStats groups by; DAY is the UTC day a transfer was created" });
