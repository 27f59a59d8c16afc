import { GraphQLJSONObject } from "graphql-scalars";
import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { callerOf, type GraphQLContext } from "./context.js";
import { withoutNulls } from "./inputs.js";
import { CreateWebhookSourceInput } from "./webhook-source.input.js";
import { WebhookSource } from "./webhook-source.type.js";

@Resolver(() => WebhookSource)
export class WebhookSourceResolver {
  @Authorized("webhooks:admin")
  @Query(() => [WebhookSource], { description: "The tenant's webhook sources, newest first" })
  async webhookSources(@Ctx() context: GraphQLContext): Promise<WebhookSource[]> {
    const sources = await context.services.webhookSources.list(context.principal!);
    return sources.map((source) => WebhookSource.from(source, context.services.publicBaseUrl()));
  }

  @Authorized("webhooks:admin")
  @Mutation(() => WebhookSource, { description: "A new door for one of the tenant's provider accounts; its URL is what the provider is given" })
  async createWebhookSource(@Arg("input", () => CreateWebhookSourceInput) input: CreateWebhookSourceInput, @Ctx() context: GraphQLContext): Promise<WebhookSource> {
    const source = await context.services.webhookSources.create(callerOf(context), withoutNulls({ ...input }));
    return WebhookSource.from(source, context.services.publicBaseUrl());
  }

  @Authorized("webhooks:admin")
  @Mutation(() => WebhookSource, { description: "New secrets verify at once; the previous ones keep verifying for graceMinutes (0: at once no more)" })
  async rotateWebhookSourceSecrets(
    @Arg("id", () => ID) id: string,
    @Arg("secrets", () => GraphQLJSONObject) secrets: Record<string, unknown>,
    @Arg("graceMinutes", () => Int, { defaultValue: 1440 }) graceMinutes: number,
    @Ctx() context: GraphQLContext,
  ): Promise<WebhookSource> {
    const source = await context.services.webhookSources.rotateSecrets(callerOf(context), id, secrets, graceMinutes);
    return WebhookSource.from(source, context.services.publicBaseUrl());
  }

  @Authorized("webhooks:admin")
  @Mutation(() => WebhookSource, { description: "A disabled source refuses every delivery (401) until enabled again" })
  async setWebhookSourceEnabled(@Arg("id", () => ID) id: string, @Arg("enabled", () => Boolean) enabled: boolean, @Ctx() context: GraphQLContext): Promise<WebhookSource> {
    const source = await context.services.webhookSources.setEnabled(callerOf(context), id, enabled);
    return WebhookSource.from(source, context.services.publicBaseUrl());
  }
}
