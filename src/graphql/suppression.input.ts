import { Field, InputType } from "type-graphql";

@InputType({ description: "Exactly one of phone or email" })
export class SuppressAddressInput {
  @Field(() => String, { nullable: true })
  phone?: string;

  @Field(() => String, { nullable: true })
  email?: string;

  @Field(() => String, { nullable: true })
  note?: string;
}

@InputType({ description: "Exactly one of phone or email, and how the recipient consented again" })
export class RemoveSuppressionInput {
  @Field(() => String, { nullable: true })
  phone?: string;

  @Field(() => String, { nullable: true })
  email?: string;

  @Field(() => String, { description: "The consent captured, e.g. 'opted in again by web form on 2026-11-20'; kept in the audit log" })
  consent!: string;
}
