import { Field, ID, ObjectType } from "type-graphql";
import type { WebhookSourceRecord } from "../domain/model.js";

@ObjectType({ description: "A tenant's own webhook door for one provider account; its secrets are never returned" })
export class WebhookSource {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "The door's provider, as in /webhooks/<provider>" })
  provider!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => String, { description: "Where the provider sends deliveries: <PUBLIC_BASE_URL>/webhooks/<provider>/<id>" })
  url!: string;

  @Field(() => Boolean, { description: "A disabled source refuses every delivery (401)" })
  enabled!: boolean;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  secretsRotatedAt!: Date | null;

  static from(record: WebhookSourceRecord, publicBaseUrl: string): WebhookSource {
    const { tenantId: _tenant, ...visible } = record;
    return Object.assign(new WebhookSource(), visible, { url: `${publicBaseUrl}/webhooks/${record.provider}/${record.id}` });
  }
}
