import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, Int, ObjectType } from "type-graphql";
import type { AuditEntryRecord } from "../domain/audit.js";

@ObjectType({ description: "One row of the tenant's hash-chained audit log: who did what, when, from where" })
export class AuditEntry {
  @Field(() => Int, { description: "Its place in the tenant's chain: 1, 2, 3…" })
  seq!: number;

  @Field(() => Date)
  at!: Date;

  @Field(() => String, { description: "The token's subject, or `recipient` for what a recipient did through a link" })
  actor!: string;

  @Field(() => String, { description: "What was done, e.g. transfer.create, transfer.download" })
  action!: string;

  @Field(() => String, { nullable: true })
  ip!: string | null;

  @Field(() => String, { nullable: true, description: "The client's user agent" })
  client!: string | null;

  @Field(() => ID, { nullable: true })
  transferId!: string | null;

  @Field(() => GraphQLJSONObject)
  details!: Record<string, unknown>;

  @Field(() => String, { description: "Hex SHA-256 over prevHash and the row's canonical content" })
  hash!: string;

  @Field(() => String, { description: "The previous row's hash (64 zeros for the first)" })
  prevHash!: string;

  static from(record: AuditEntryRecord): AuditEntry {
    return Object.assign(new AuditEntry(), record);
  }
}
