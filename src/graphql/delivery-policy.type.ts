import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { EMAIL_COPY_MODES, type EmailCopyMode } from "../domain/delivery-policy.js";
import type { StoredDeliveryPolicy } from "../domain/delivery-policy.service.js";
import { asEnum } from "./enums.js";

export const EmailCopyModeEnum = asEnum(EMAIL_COPY_MODES);
registerEnumType(EmailCopyModeEnum, {
  name: "EmailCopyMode",
  description: "ALWAYS: an email copy beside the phone message; ON_FAILURE: email as the last fallback; NEVER",
});

@ObjectType({ description: "How the tenant's notifications go out and fall back; each transfer keeps the policy it was created under" })
export class DeliveryPolicy {
  @Field(() => Boolean, { description: "An RCS message that fails, or is not delivered in time, falls back to SMS" })
  fallbackToSms!: boolean;

  @Field(() => Int, { nullable: true, description: "A message not delivered within this many minutes falls back; null: only on failure" })
  fallbackAfterMinutes!: number | null;

  @Field(() => EmailCopyModeEnum)
  emailCopy!: EmailCopyMode;

  @Field(() => Int, { description: "RCS goes out this many minutes after the transfer is created" })
  rcsDelayMinutes!: number;

  @Field(() => Boolean, { description: "Ask the provider whether the phone can receive RCS before sending it, where the provider can answer" })
  checkRcsCapability!: boolean;

  @Field(() => String, { nullable: true, description: "Who set it last; null while the default applies" })
  updatedBy!: string | null;

  @Field(() => Date, { nullable: true })
  updatedAt!: Date | null;

  static from(stored: StoredDeliveryPolicy): DeliveryPolicy {
    return Object.assign(new DeliveryPolicy(), stored.policy, { updatedBy: stored.updatedBy, updatedAt: stored.updatedAt });
  }
}
