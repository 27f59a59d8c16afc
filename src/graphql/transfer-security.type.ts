import { Field, Int, ObjectType } from "type-graphql";
import { securityOf, type TransferSecurity as Security } from "../domain/transfer-security.js";

@ObjectType({ description: "How a transfer's links behave (its own request over the tenant's securityPolicy, under compliance mode's caps)" })
export class TransferSecurity {
  @Field(() => Int, { nullable: true, description: "Minutes a link works after its notification is sent (never past expiresAt); null: until expiresAt" })
  linkTtlMinutes!: number | null;

  @Field(() => Int, { nullable: true, description: "Downloads the links allow in all (downloadCount counts them); null: no limit" })
  maxDownloads!: number | null;

  @Field(() => Boolean, { description: "A one-time code, sent by SMS (or email without a phone), must be entered before the download" })
  requireOtp!: boolean;

  static from(stored: Partial<Security>): TransferSecurity {
    return Object.assign(new TransferSecurity(), securityOf(stored));
  }
}
