import type { Principal } from "../auth/access-tokens.js";
import type { ReceiptHistoryService } from "../domain/receipt-history.service.js";
import type { Caller, TransferService } from "../domain/transfer.service.js";

export interface GraphQLServices {
  transfers: TransferService;
  history: ReceiptHistoryService;
}

/** Per operation, over HTTP and over graphql-ws alike. */
export interface GraphQLContext {
  principal: Principal | null;
  ip?: string;
  client?: string;
  services: GraphQLServices;
}

/** The caller behind an authorized operation (the auth checker has already run). */
export function callerOf(context: GraphQLContext): Caller {
  return { principal: context.principal!, ip: context.ip, client: context.client };
}
