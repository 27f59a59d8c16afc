/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** The channel a notification travels on */
export type Channel =
  | 'EMAIL'
  | 'RCS'
  | 'SMS';

/** Where one notification message stands */
export type MessageStatus =
  | 'DELIVERED'
  | 'FAILED'
  | 'QUEUED'
  | 'READ'
  | 'REVOKED'
  | 'SENT'
  | 'SUPPRESSED';

/** The canonical receipt events */
export type ReceiptEventType =
  | 'ACTION'
  | 'COMPLAINT'
  | 'DELIVERED'
  | 'DOWNLOADED'
  | 'FAILED'
  | 'LINK_OPENED'
  | 'OPT_OUT'
  | 'QUEUED'
  | 'READ'
  | 'REPLY'
  | 'REVOKED'
  | 'SENT'
  | 'TYPING';

/** Which messages statistics count: those of transfers created in [from, to), on this channel, provider, carrier and region */
export type ReceiptStatsFilter = {
  carrier?: string | null | undefined;
  channel?: Channel | null | undefined;
  /** Transfers created at or after this time */
  from?: string | null | undefined;
  provider?: string | null | undefined;
  region?: string | null | undefined;
  /** Transfers created before this time */
  to?: string | null | undefined;
};

/** What receiptStats groups by; DAY is the UTC day a transfer was created */
export type StatsDimension =
  | 'CARRIER'
  | 'CHANNEL'
  | 'DAY'
  | 'PROVIDER'
  | 'REGION';

/** Where a transfer stands, rebuilt from its messages */
export type TransferStatus =
  | 'DELIVERED'
  | 'DOWNLOADED'
  | 'EXPIRED'
  | 'FAILED'
  | 'QUEUED'
  | 'READ'
  | 'REVOKED'
  | 'SENT';

export type TransferSummaryFragment = { id: string, status: TransferStatus, senderName: string, fileName: string, createdAt: string, updatedAt: string, recipient: { phone: string | null, email: string | null } };

export type TransferDetailFragment = { downloadedAt: string | null, id: string, status: TransferStatus, senderName: string, fileName: string, createdAt: string, updatedAt: string, messages: Array<{ id: string, channel: Channel, provider: string, status: MessageStatus, createdAt: string }>, recipient: { phone: string | null, email: string | null } };

export type EventRowFragment = { id: string, messageId: string | null, channel: Channel | null, event: ReceiptEventType, timestamp: string, provider: string };

export type AppRecentTransfersQueryVariables = Exact<{
  first?: number | null | undefined;
}>;


export type AppRecentTransfersQuery = { transfers: Array<{ id: string, status: TransferStatus, senderName: string, fileName: string, createdAt: string, updatedAt: string, recipient: { phone: string | null, email: string | null } }> };

export type AppTransfersUpdatedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type AppTransfersUpdatedSubscription = { transfersUpdated: { transfer: { id: string, status: TransferStatus, senderName: string, fileName: string, createdAt: string, updatedAt: string, recipient: { phone: string | null, email: string | null } } } };

export type AppTransferLiveSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type AppTransferLiveSubscription = { transferUpdated: { transfer: { downloadedAt: string | null, id: string, status: TransferStatus, senderName: string, fileName: string, createdAt: string, updatedAt: string, messages: Array<{ id: string, channel: Channel, provider: string, status: MessageStatus, createdAt: string }>, recipient: { phone: string | null, email: string | null } }, event: { id: string, messageId: string | null, channel: Channel | null, event: ReceiptEventType, timestamp: string, provider: string } | null } };

export type AppTransferEventsQueryVariables = Exact<{
  transferId: string | number;
  after?: string | null | undefined;
}>;


export type AppTransferEventsQuery = { receiptEvents: { edges: Array<{ node: { id: string, messageId: string | null, channel: Channel | null, event: ReceiptEventType, timestamp: string, provider: string } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type AppDeliveryStatsQueryVariables = Exact<{
  groupBy: Array<StatsDimension> | StatsDimension;
  filter?: ReceiptStatsFilter | null | undefined;
}>;


export type AppDeliveryStatsQuery = { receiptStats: Array<{ transfers: number, messages: number, sent: number, delivered: number, read: number, failed: number, downloads: number, deliveryRate: number | null, readRate: number | null, downloadRate: number | null, key: { channel: Channel | null, day: string | null }, timeToRead: { p50: number | null, p90: number | null, p99: number | null } }> };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const TransferSummaryFragmentDoc = new TypedDocumentString(`
    fragment TransferSummary on Transfer {
  id
  status
  senderName
  fileName
  createdAt
  updatedAt
  recipient {
    phone
    email
  }
}
    `, {"fragmentName":"TransferSummary"}) as unknown as TypedDocumentString<TransferSummaryFragment, unknown>;
export const TransferDetailFragmentDoc = new TypedDocumentString(`
    fragment TransferDetail on Transfer {
  ...TransferSummary
  downloadedAt
  messages {
    id
    channel
    provider
    status
    createdAt
  }
}
    fragment TransferSummary on Transfer {
  id
  status
  senderName
  fileName
  createdAt
  updatedAt
  recipient {
    phone
    email
  }
}`, {"fragmentName":"TransferDetail"}) as unknown as TypedDocumentString<TransferDetailFragment, unknown>;
export const EventRowFragmentDoc = new TypedDocumentString(`
    fragment EventRow on ReceiptEvent {
  id
  messageId
  channel
  event
  timestamp
  provider
}
    `, {"fragmentName":"EventRow"}) as unknown as TypedDocumentString<EventRowFragment, unknown>;
export const AppRecentTransfersDocument = new TypedDocumentString(`
    query AppRecentTransfers($first: Int) {
  transfers(first: $first) {
    ...TransferSummary
  }
}
    fragment TransferSummary on Transfer {
  id
  status
  senderName
  fileName
  createdAt
  updatedAt
  recipient {
    phone
    email
  }
}`) as unknown as TypedDocumentString<AppRecentTransfersQuery, AppRecentTransfersQueryVariables>;
export const AppTransfersUpdatedDocument = new TypedDocumentString(`
    subscription AppTransfersUpdated {
  transfersUpdated {
    transfer {
      ...TransferSummary
    }
  }
}
    fragment TransferSummary on Transfer {
  id
  status
  senderName
  fileName
  createdAt
  updatedAt
  recipient {
    phone
    email
  }
}`) as unknown as TypedDocumentString<AppTransfersUpdatedSubscription, AppTransfersUpdatedSubscriptionVariables>;
export const AppTransferLiveDocument = new TypedDocumentString(`
    subscription AppTransferLive($id: ID!) {
  transferUpdated(id: $id) {
    transfer {
      ...TransferDetail
    }
    event {
      ...EventRow
    }
  }
}
    fragment TransferSummary on Transfer {
  id
  status
  senderName
  fileName
  createdAt
  updatedAt
  recipient {
    phone
    email
  }
}
fragment TransferDetail on Transfer {
  ...TransferSummary
  downloadedAt
  messages {
    id
    channel
    provider
    status
    createdAt
  }
}
fragment EventRow on ReceiptEvent {
  id
  messageId
  channel
  event
  timestamp
  provider
}`) as unknown as TypedDocumentString<AppTransferLiveSubscription, AppTransferLiveSubscriptionVariables>;
export const AppTransferEventsDocument = new TypedDocumentString(`
    query AppTransferEvents($transferId: ID!, $after: String) {
  receiptEvents(filter: {transferId: $transferId}, first: 500, after: $after) {
    edges {
      node {
        ...EventRow
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    fragment EventRow on ReceiptEvent {
  id
  messageId
  channel
  event
  timestamp
  provider
}`) as unknown as TypedDocumentString<AppTransferEventsQuery, AppTransferEventsQueryVariables>;
export const AppDeliveryStatsDocument = new TypedDocumentString(`
    query AppDeliveryStats($groupBy: [StatsDimension!]!, $filter: ReceiptStatsFilter) {
  receiptStats(groupBy: $groupBy, filter: $filter) {
    key {
      channel
      day
    }
    transfers
    messages
    sent
    delivered
    read
    failed
    downloads
    deliveryRate
    readRate
    downloadRate
    timeToRead {
      p50
      p90
      p99
    }
  }
}
    `) as unknown as TypedDocumentString<AppDeliveryStatsQuery, AppDeliveryStatsQueryVariables>;