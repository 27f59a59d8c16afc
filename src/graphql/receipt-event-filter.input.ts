import { Field, ID, InputType } from "type-graphql";
import type { Channel, ReceiptEventType } from "../domain/model.js";
import { ChannelEnum, ReceiptEventTypeEnum } from "./enums.js";

@InputType()
export class ReceiptEventFilter {
  @Field(() => ID, { nullable: true })
  transferId?: string;

  @Field(() => ChannelEnum, { nullable: true })
  channel?: Channel;

  @Field(() => ReceiptEventTypeEnum, { nullable: true })
  event?: ReceiptEventType;

  @Field(() => String, { nullable: true })
  provider?: string;

  @Field(() => String, { nullable: true, description: "The carrier the event names" })
  carrier?: string;

  @Field(() => String, { nullable: true, description: "The region the event names" })
  region?: string;

  @Field(() => String, { nullable: true, description: "Events of transfers with exactly this sender name" })
  senderName?: string;

  @Field(() => ID, { nullable: true, description: "Events of this message" })
  messageId?: string;

  @Field(() => Date, { nullable: true, description: "Events at or after this provider time" })
  from?: Date;

  @Field(() => Date, { nullable: true, description: "Events at or before this provider time" })
  to?: Date;
}
