import { Field, ID, InputType } from "type-graphql";
import type { Channel } from "../domain/model.js";
import { ChannelEnum } from "./enums.js";

@InputType()
export class ResendNotificationInput {
  @Field(() => ID)
  transferId!: string;

  @Field(() => ChannelEnum, { nullable: true, description: "Defaults to RCS when the recipient has a phone, else EMAIL" })
  channel?: Channel;

  @Field(() => String, { nullable: true, description: "The same key for the same transfer queues nothing again" })
  idempotencyKey?: string;
}
