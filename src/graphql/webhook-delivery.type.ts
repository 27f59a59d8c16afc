import { Field, ID, Int, ObjectType } from "type-graphql";
import type { WebhookDeliveryOutcome, WebhookDeliveryRecord } from "../domain/model.js";
import { WebhookDeliveryOutcomeEnum } from "./enums.js";
import { PageInfo } from "./receipt-event.type.js";

@ObjectType({ description: "One delivery that reached a tenant's webhook source, as the delivery log keeps it" })
export class WebhookDelivery {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { description: "The webhook source it came through" })
  sourceId!: string;

  @Field(() => String)
  provider!: string;

  @Field(() => Date)
  receivedAt!: Date;

  @Field(() => WebhookDeliveryOutcomeEnum)
  outcome!: WebhookDeliveryOutcome;

  @Field(() => Int, { description: "The HTTP status the door answered" })
  statusCode!: number;

  @Field(() => String, { nullable: true, description: "Why it was refused; null when accepted" })
  reason!: string | null;

  @Field(() => Int, { description: "Canonical events it normalized to, stored or duplicate; 0 when refused" })
  eventCount!: number;

  @Field(() => String, { description: "The raw body as received, read as UTF-8" })
  body!: string;

  /** Only deliveries through a tenant's own source reach GraphQL, so the source is always known. */
  static from(record: WebhookDeliveryRecord): WebhookDelivery {
    const { tenantId: _tenant, request: _request, ...visible } = record;
    return Object.assign(new WebhookDelivery(), visible, { sourceId: record.sourceId!, body: record.body.toString("utf8") });
  }
}

@ObjectType()
export class WebhookDeliveryEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => WebhookDelivery)
  node!: WebhookDelivery;
}

@ObjectType()
export class WebhookDeliveryConnection {
  @Field(() => [WebhookDeliveryEdge])
  edges!: WebhookDeliveryEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType({ description: "What a replay did: deliveries replayed, events stored (or handed back to be matched), events already known" })
export class ReplayResult {
  @Field(() => Int)
  replayed!: number;

  @Field(() => Int)
  stored!: number;

  @Field(() => Int)
  duplicates!: number;
}
