import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { DELIVERY_OUTCOMES, type DeliveryOutcome } from "../domain/model.js";
import { asEnum } from "./enums.js";

const DeliveryOutcomeEnum = asEnum(DELIVERY_OUTCOMES);
registerEnumType(DeliveryOutcomeEnum, {
  name: "DeliveryOutcome",
  description: "ACCEPTED by the provider; RETRY after a transient failure; FAILED for good (permanent, or out of attempts); SUPPRESSED: not sent, the address is suppressed",
});

@ObjectType({ description: "One send attempt of a message" })
export class DeliveryAttempt {
  @Field(() => Int)
  attempt!: number;

  @Field(() => Date)
  at!: Date;

  @Field(() => String)
  provider!: string;

  @Field(() => DeliveryOutcomeEnum)
  outcome!: DeliveryOutcome;

  @Field(() => Int, { nullable: true, description: "The provider's response code (HTTP or SMTP), when it answered" })
  code!: number | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => Date, { nullable: true, description: "When the next attempt is due, after a transient failure" })
  retryAt!: Date | null;
}
