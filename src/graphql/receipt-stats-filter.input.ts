import { Field, InputType } from "type-graphql";
import type { Channel } from "../domain/model.js";
import { ChannelEnum } from "./enums.js";

@InputType({ description: "Which messages statistics count: those of transfers created in [from, to), on this channel, provider, carrier and region" })
export class ReceiptStatsFilter {
  @Field(() => Date, { nullable: true, description: "Transfers created at or after this time" })
  from?: Date;

  @Field(() => Date, { nullable: true, description: "Transfers created before this time" })
  to?: Date;

  @Field(() => ChannelEnum, { nullable: true })
  channel?: Channel;

  @Field(() => String, { nullable: true })
  provider?: string;

  @Field(() => String, { nullable: true })
  carrier?: string;

  @Field(() => String, { nullable: true })
  region?: string;
}
