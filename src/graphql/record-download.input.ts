import { Field, ID, InputType } from "type-graphql";

@InputType({ description: "A download the partner's own storage saw" })
export class RecordDownloadInput {
  @Field(() => ID)
  transferId!: string;

  @Field(() => Date, { nullable: true, description: "When it happened (default now); not in the future, not after the transfer expired" })
  downloadedAt?: Date;

  @Field(() => String, { nullable: true, description: "The same key for the same transfer records the download once" })
  idempotencyKey?: string;
}
