import { Field, ObjectType, registerEnumType } from "type-graphql";
import { type AddressKind, SUPPRESSION_REASONS, type SuppressionReason, type SuppressionRecord } from "../domain/model.js";
import { asEnum } from "./enums.js";

export const AddressKindEnum = { PHONE: "phone", EMAIL: "email" } as const;
registerEnumType(AddressKindEnum, { name: "AddressKind", description: "PHONE suppresses RCS and SMS; EMAIL suppresses email" });

const SuppressionReasonEnum = asEnum(SUPPRESSION_REASONS);
registerEnumType(SuppressionReasonEnum, { name: "SuppressionReason" });

@ObjectType({ description: "An address the tenant does not notify; sends to it become SUPPRESSED messages" })
export class Suppression {
  @Field(() => AddressKindEnum)
  kind!: AddressKind;

  @Field(() => String)
  address!: string;

  @Field(() => SuppressionReasonEnum)
  reason!: SuppressionReason;

  @Field(() => String, { nullable: true })
  note!: string | null;

  @Field(() => String, { description: "`receipt` when an opt-out, complaint or bounce caused it, else who added it" })
  createdBy!: string;

  @Field(() => Date)
  createdAt!: Date;

  static from(record: SuppressionRecord): Suppression {
    return Object.assign(new Suppression(), record);
  }
}
