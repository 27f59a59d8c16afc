import { Field, ID, Int, ObjectType } from "type-graphql";
import type { Channel, MessageStatus } from "../domain/model.js";
import { ChannelEnum, MessageStatusEnum } from "./enums.js";

@ObjectType({ description: "One notification of a transfer on one channel" })
export class Message {
  @Field(() => ID)
  id!: string;

  @Field(() => ChannelEnum)
  channel!: Channel;

  @Field(() => String, { description: "The provider it is sent through" })
  provider!: string;

  @Field(() => String, { nullable: true, description: "The provider's id, once its send API accepted the message" })
  providerMessageId!: string | null;

  @Field(() => MessageStatusEnum)
  status!: MessageStatus;

  @Field(() => Int, { description: "Send attempts so far" })
  attempts!: number;

  @Field(() => String, { nullable: true })
  lastError!: string | null;

  @Field(() => ID, { nullable: true, description: "The message of this transfer this one falls back from" })
  fallbackOfMessageId!: string | null;

  @Field(() => String, { nullable: true, description: "Why the fallback was sent" })
  fallbackReason!: string | null;

  @Field(() => Date)
  createdAt!: Date;
}
