import { Field, Float, Int, ObjectType } from "type-graphql";
import type { Channel } from "../domain/model.js";
import { ChannelEnum } from "./enums.js";

@ObjectType({ description: "A row's place: the dimensions grouped by are set, the others null (a grouped null carrier or region: none known)" })
export class ReceiptStatsKey {
  @Field(() => ChannelEnum, { nullable: true })
  channel!: Channel | null;

  @Field(() => String, { nullable: true })
  provider!: string | null;

  @Field(() => String, { nullable: true })
  carrier!: string | null;

  @Field(() => String, { nullable: true })
  region!: string | null;

  @Field(() => String, { nullable: true, description: "The UTC day the transfers were created, YYYY-MM-DD" })
  day!: string | null;
}

@ObjectType({ description: "Nearest-rank percentiles in seconds (exact up to 10,000 matching messages; see README); null when no message got there" })
export class Percentiles {
  @Field(() => Float, { nullable: true })
  p50!: number | null;

  @Field(() => Float, { nullable: true })
  p90!: number | null;

  @Field(() => Float, { nullable: true })
  p99!: number | null;
}

@ObjectType({ description: "Delivery funnel and latencies of one group of messages" })
export class ReceiptStatsRow {
  @Field(() => ReceiptStatsKey)
  key!: ReceiptStatsKey;

  @Field(() => Int, { description: "Transfers whose first message is in this row: each transfer counts in exactly one row" })
  transfers!: number;

  @Field(() => Int)
  messages!: number;

  @Field(() => Int, { description: "Messages the provider accepted (SENT, or DELIVERED or READ)" })
  sent!: number;

  @Field(() => Int)
  delivered!: number;

  @Field(() => Int)
  read!: number;

  @Field(() => Int)
  failed!: number;

  @Field(() => Int, { description: "Messages that are a fallback of another" })
  fallbacks!: number;

  @Field(() => Int, { description: "Downloaded transfers, counted like transfers" })
  downloads!: number;

  @Field(() => Float, { nullable: true, description: "delivered / sent; null when nothing was sent" })
  deliveryRate!: number | null;

  @Field(() => Float, { nullable: true, description: "read / sent" })
  readRate!: number | null;

  @Field(() => Float, { nullable: true, description: "downloads / sent" })
  downloadRate!: number | null;

  @Field(() => Percentiles, { description: "From the transfer's creation to the message's first DELIVERED" })
  timeToDeliver!: Percentiles;

  @Field(() => Percentiles, { description: "From the transfer's creation to the message's first READ" })
  timeToRead!: Percentiles;

  @Field(() => Percentiles, { description: "From the transfer's creation to its first download" })
  timeToDownload!: Percentiles;
}
