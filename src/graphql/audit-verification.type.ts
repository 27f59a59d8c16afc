import { Field, Int, ObjectType } from "type-graphql";

@ObjectType({ description: "The tenant's audit chain, recomputed from the stored rows" })
export class AuditVerification {
  @Field(() => Boolean, { description: "Every row's hash matches its content and the row before it, seqs without a gap" })
  valid!: boolean;

  @Field(() => Int, { description: "Rows in the tenant's log" })
  entries!: number;

  @Field(() => Int, { nullable: true, description: "The first seq where the chain breaks: an edited, removed or reordered row; null when valid" })
  firstBrokenSeq!: number | null;
}
