import { Field, InputType, Int } from "type-graphql";

@InputType({ description: "A transfer's own link security; a field left out takes the tenant's securityPolicy" })
export class TransferSecurityInput {
  @Field(() => Int, { nullable: true, description: "Minutes a link works after its notification is sent (compliance mode: at most 60)" })
  linkTtlMinutes?: number;

  @Field(() => Int, { nullable: true, description: "Downloads the links allow in all (compliance mode: 1)" })
  maxDownloads?: number;

  @Field(() => Boolean, { nullable: true, description: "Require a one-time code before the download (compliance mode: always)" })
  requireOtp?: boolean;
}
