import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { callerOf, type GraphQLContext } from "./context.js";
import { CreateTransferInput } from "./create-transfer.input.js";
import { withoutNulls } from "./inputs.js";
import { RecordDownloadInput } from "./record-download.input.js";
import { ResendNotificationInput } from "./resend-notification.input.js";
import { Transfer } from "./transfer.type.js";

@Resolver(() => Transfer)
export class TransferResolver {
  @Authorized("transfers:write")
  @Mutation(() => Transfer, { description: "Stores a transfer and queues its notifications (RCS, and an email copy when there is an email)" })
  async createTransfer(@Arg("input", () => CreateTransferInput) input: CreateTransferInput, @Ctx() context: GraphQLContext): Promise<Transfer> {
    const command = {
      ...withoutNulls(input),
      recipient: withoutNulls({ ...input.recipient }),
      security: input.security ? withoutNulls({ ...input.security }) : undefined,
    };
    return Transfer.from(await context.services.transfers.create(callerOf(context), command));
  }

  @Authorized("transfers:write")
  @Mutation(() => Transfer, {
    description: "Revokes the transfer: unsent notifications are never sent, and every one short of delivery becomes REVOKED",
  })
  async revokeTransfer(
    @Arg("id", () => ID) id: string,
    @Ctx() context: GraphQLContext,
    @Arg("reason", () => String, { nullable: true }) reason?: string,
  ): Promise<Transfer> {
    return Transfer.from(await context.services.transfers.revoke(callerOf(context), id, reason ?? undefined));
  }

  @Authorized("transfers:write")
  @Mutation(() => Transfer, { description: "Queues the notification again (a revoked or expired transfer is a CONFLICT)" })
  async resendNotification(
    @Arg("input", () => ResendNotificationInput) input: ResendNotificationInput,
    @Ctx() context: GraphQLContext,
  ): Promise<Transfer> {
    return Transfer.from(await context.services.transfers.resend(callerOf(context), withoutNulls({ ...input })));
  }

  @Authorized("transfers:write")
  @Mutation(() => Transfer, { description: "Records that the recipient downloaded the file: the transfer becomes DOWNLOADED (a revoked transfer is a CONFLICT)" })
  async recordDownload(@Arg("input", () => RecordDownloadInput) input: RecordDownloadInput, @Ctx() context: GraphQLContext): Promise<Transfer> {
    return Transfer.from(await context.services.downloads.recordDownload(callerOf(context), withoutNulls({ ...input })));
  }

  @Authorized("transfers:read")
  @Query(() => Transfer, { nullable: true, description: "Null when absent or another tenant's" })
  async transfer(@Arg("id", () => ID) id: string, @Ctx() context: GraphQLContext): Promise<Transfer | null> {
    const view = await context.services.transfers.get(context.principal!, id);
    return view ? Transfer.from(view) : null;
  }

  @Authorized("transfers:read")
  @Query(() => [Transfer], { description: "The tenant's most recent transfers, newest first (at most 100)" })
  async transfers(@Ctx() context: GraphQLContext, @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) first?: number): Promise<Transfer[]> {
    return (await context.services.transfers.recent(context.principal!, first ?? 20)).map((view) => Transfer.from(view));
  }
}
