import { Field, InputType, Int } from "type-graphql";
import { DEFAULT_SECURITY_POLICY } from "../domain/transfer-security.js";

@InputType({ description: "The whole policy: a field left out takes its default. With complianceMode, its caps apply whatever the other fields say" })
export class SecurityPolicyInput {
  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_SECURITY_POLICY.linkTtlMinutes })
  linkTtlMinutes!: number | null;

  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_SECURITY_POLICY.maxDownloads })
  maxDownloads!: number | null;

  @Field(() => Boolean, { defaultValue: DEFAULT_SECURITY_POLICY.requireOtp })
  requireOtp!: boolean;

  @Field(() => Boolean, { defaultValue: DEFAULT_SECURITY_POLICY.complianceMode })
  complianceMode!: boolean;

  @Field(() => String, { nullable: true, defaultValue: DEFAULT_SECURITY_POLICY.pinnedRegion })
  pinnedRegion!: string | null;

  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_SECURITY_POLICY.auditRetentionDays })
  auditRetentionDays!: number | null;
}
