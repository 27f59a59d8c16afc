import { GraphQLJSONObject } from "graphql-scalars";
import { Field, InputType } from "type-graphql";

@InputType()
export class CreateWebhookSourceInput {
  @Field(() => String, { description: "One of the side-door's providers: generic, enablex, standard, twilio, vonage, rbm, sinch, infobip, sendgrid, mailgun, ses" })
  provider!: string;

  @Field(() => String, { nullable: true })
  name?: string;

  @Field(() => GraphQLJSONObject, { description: "The provider's secrets by name (see the README): stored encrypted, never returned" })
  secrets!: Record<string, unknown>;
}
