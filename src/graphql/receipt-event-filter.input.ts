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

  @Field(() => Date, { nullable: true, description: "Events at or after this provider time" })
  from?: Date;

  @Field(() => Date, { nullable: true, description: "Events at or before this provider time" })
  to?: Date;
}
