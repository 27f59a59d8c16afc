import { Field, InputType, Int } from "type-graphql";
import { DEFAULT_DELIVERY_POLICY, type EmailCopyMode } from "../domain/delivery-policy.js";
import { EmailCopyModeEnum } from "./delivery-policy.type.js";

@InputType({ description: "The whole policy: a field left out takes its default" })
export class DeliveryPolicyInput {
  @Field(() => Boolean, { defaultValue: DEFAULT_DELIVERY_POLICY.fallbackToSms })
  fallbackToSms!: boolean;

  @Field(() => Int, { nullable: true, defaultValue: DEFAULT_DELIVERY_POLICY.fallbackAfterMinutes, description: "null: fall back only on failure" })
  fallbackAfterMinutes!: number | null;

  @Field(() => EmailCopyModeEnum, { defaultValue: DEFAULT_DELIVERY_POLICY.emailCopy })
  emailCopy!: EmailCopyMode;

  @Field(() => Int, { defaultValue: DEFAULT_DELIVERY_POLICY.rcsDelayMinutes })
  rcsDelayMinutes!: number;

  @Field(() => Boolean, { defaultValue: DEFAULT_DELIVERY_POLICY.checkRcsCapability })
  checkRcsCapability!: boolean;
}
