import { Arg, Authorized, Ctx, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "./context.js";
import { ReceiptVerification } from "./receipt-verification.type.js";

@Resolver()
export class DownloadReceiptResolver {
  @Authorized("transfers:read")
  @Query(() => ReceiptVerification, { description: "Checks a download receipt (Transfer.downloadReceipt) against Ackline's signing keys, rotated-out ones included" })
  async verifyReceipt(@Arg("jws", () => String) jws: string, @Ctx() context: GraphQLContext): Promise<ReceiptVerification> {
    return Object.assign(new ReceiptVerification(), await context.services.receipts.verify(context.principal!, jws));
  }
}
