import { GraphQLSafeInt } from "graphql-scalars";
import { Field, InputType } from "type-graphql";
import { TransferSecurityInput } from "./transfer-security.input.js";

@InputType()
export class RecipientInput {
  @Field(() => String, { nullable: true, description: "E.164 phone number: receives the RCS notification (SMS when not RCS-capable)" })
  phone?: string;

  @Field(() => String, { nullable: true, description: "Receives the email copy with the audit trail" })
  email?: string;
}

@InputType()
export class CreateTransferInput {
  @Field(() => RecipientInput)
  recipient!: RecipientInput;

  @Field(() => String)
  fileName!: string;

  @Field(() => GraphQLSafeInt)
  fileSizeBytes!: number;

  @Field(() => String, { nullable: true })
  description?: string;

  @Field(() => String)
  senderName!: string;

  @Field(() => String, { nullable: true, description: "Gets the signed download receipt by email once the recipient first downloads the file" })
  senderEmail?: string;

  @Field(() => Date, { nullable: true, description: "Defaults to 7 days from now; at most 90 days" })
  expiresAt?: Date;

  @Field(() => String, {
    nullable: true,
    description: "The same key returns the same transfer and sends nothing again; reused with different input it is a CONFLICT",
  })
  idempotencyKey?: string;

  @Field(() => String, { nullable: true, description: "Hex SHA-256 of the file: an upload to the embedded store (PUT /files/<id>) must match it" })
  fileSha256?: string;

  @Field(() => TransferSecurityInput, { nullable: true, description: "Link TTL, download cap and OTP for this transfer; left out: the tenant's securityPolicy" })
  security?: TransferSecurityInput;
}
