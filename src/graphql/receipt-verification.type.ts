import { Field, ID, ObjectType } from "type-graphql";

@ObjectType({ description: "What verifyReceipt found: whether the receipt is Ackline's, signed for this tenant, and what it attests" })
export class ReceiptVerification {
  @Field(() => Boolean)
  valid!: boolean;

  @Field(() => ID, { nullable: true, description: "The transfer the receipt is about (its `sub`), when valid" })
  transferId!: string | null;

  @Field(() => Date, { nullable: true, description: "When the file was first downloaded (its `downloaded_at`), when valid" })
  downloadedAt!: Date | null;

  @Field(() => String, { nullable: true, description: "Why it is not valid: a bad signature, an unknown key, not a receipt, another tenant's" })
  reason!: string | null;
}
