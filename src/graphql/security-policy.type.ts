import { Field, Int, ObjectType } from "type-graphql";
import type { StoredSecurityPolicy } from "../domain/security-policy.service.js";

@ObjectType({ description: "The tenant's security defaults for new transfers; each transfer keeps the security it was created with" })
export class SecurityPolicy {
  @Field(() => Int, { nullable: true, description: "Minutes a link works after its notification is sent; null: until the transfer expires" })
  linkTtlMinutes!: number | null;

  @Field(() => Int, { nullable: true, description: "Downloads a transfer's links allow in all; null: no limit" })
  maxDownloads!: number | null;

  @Field(() => Boolean, { description: "Downloads need a one-time code" })
  requireOtp!: boolean;

  @Field(() => Boolean, {
    description: "One switch: OTP forced on, link TTL at most 60 minutes, at most one download, audit trail kept 7 years (auditRetentionDays 2557)",
  })
  complianceMode!: boolean;

  @Field(() => String, { nullable: true, description: "Transfers may only be created on a deployment whose STORAGE_REGION is this; null: anywhere" })
  pinnedRegion!: string | null;

  @Field(() => Int, { nullable: true, description: "Days the audit trail must be kept (compliance mode: 2557, 7 years); null: no commitment" })
  auditRetentionDays!: number | null;

  @Field(() => String, { nullable: true, description: "Who set it last; null while the default applies" })
  updatedBy!: string | null;

  @Field(() => Date, { nullable: true })
  updatedAt!: Date | null;

  static from(stored: StoredSecurityPolicy): SecurityPolicy {
    return Object.assign(new SecurityPolicy(), stored.policy, { updatedBy: stored.updatedBy, updatedAt: stored.updatedAt });
  }
}
