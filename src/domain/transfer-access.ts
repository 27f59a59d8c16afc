import { and, eq } from "drizzle-orm";
import type { Principal } from "../auth/access-tokens.js";
import type { Transaction } from "../db/client.js";
import { transfers } from "../db/schema.js";
import { DomainError } from "./errors.js";

/** The caller's transfer, locked; another tenant's is as absent as a missing one. */
export async function lockOwnTransfer(tx: Transaction, principal: Principal, transferId: string) {
  const [transfer] = await tx
    .select()
    .from(transfers)
    .where(and(eq(transfers.id, transferId), eq(transfers.tenantId, principal.tenantId)))
    .for("update");
  if (!transfer) throw new DomainError("NOT_FOUND", `transfer ${transferId} not found`);
  return transfer;
}
