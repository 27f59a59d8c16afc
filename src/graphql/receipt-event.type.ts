import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, ObjectType } from "type-graphql";
import { type Channel, OWN_EVENT_SOURCES, type ReceiptEventRecord, type ReceiptEventType } from "../domain/model.js";
import { webhookProviders } from "../webhooks/providers/index.js";
import { ChannelEnum, ReceiptEventTypeEnum } from "./enums.js";

const webhookDoors = [...webhookProviders.keys()].join(", ");
const ownSources = Object.entries(OWN_EVENT_SOURCES).map(([source, covers]) => `${source} (${covers})`).join(", ");
/** Built from the registry of doors and Ackline's own sources, so neither can leave it behind. */
const SOURCE_DESCRIPTION = `The door the event came through: a webhook door (${webhookDoors}), or one of Ackline's own: ${ownSources}`;

@ObjectType({ description: "A canonical receipt event, normalized from a provider's webhook or recorded by Ackline" })
export class ReceiptEvent {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  transferId!: string;

  @Field(() => ID, { nullable: true, description: "Ackline's message id; null for replies attached to the transfer" })
  messageId!: string | null;

  @Field(() => ChannelEnum, { nullable: true })
  channel!: Channel | null;

  @Field(() => ReceiptEventTypeEnum)
  event!: ReceiptEventType;

  @Field(() => Date, { description: "The provider's own event time, to the millisecond" })
  timestamp!: Date;

  @Field(() => Date, { description: "When Ackline received it" })
  receivedAt!: Date;

  @Field(() => String)
  provider!: string;

  @Field(() => String, { description: SOURCE_DESCRIPTION })
  source!: string;

  @Field(() => String, { nullable: true })
  carrier!: string | null;

  @Field(() => String, { nullable: true })
  region!: string | null;

  @Field(() => GraphQLJSONObject)
  metadata!: Record<string, unknown>;

  @Field(() => String, { description: "Its place in the history: pass it as receiptEvents' `after` to read the events that follow it" })
  cursor!: string;

  /** Only matched events reach GraphQL, so the transfer id is always known. */
  static from(record: ReceiptEventRecord): ReceiptEvent {
    return Object.assign(new ReceiptEvent(), {
      ...record,
      transferId: record.transferId!,
      timestamp: record.occurredAt,
    });
  }
}

@ObjectType()
export class ReceiptEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => ReceiptEvent)
  node!: ReceiptEvent;
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType()
export class ReceiptEventConnection {
  @Field(() => [ReceiptEventEdge])
  edges!: ReceiptEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
