import { asc, sql } from "drizzle-orm";
import type { Queryable } from "../db/client.js";
import { deliveryAttempts } from "../db/schema.js";
import type { DeliveryAttemptRecord } from "./model.js";

/** Every recorded send attempt of these messages, oldest first, grouped by message id. */
export async function deliveryAttemptsOf(db: Queryable, messageIds: readonly string[]): Promise<Map<string, DeliveryAttemptRecord[]>> {
  const rows =
    messageIds.length === 0
      ? []
      : await db
          .select()
          .from(deliveryAttempts)
          .where(sql`${deliveryAttempts.messageId} = ANY(${sql.param([...messageIds])}::text[])`)
          .orderBy(asc(deliveryAttempts.messageId), asc(deliveryAttempts.attempt));
  const byMessage = new Map<string, DeliveryAttemptRecord[]>();
  for (const row of rows) byMessage.set(row.messageId, [...(byMessage.get(row.messageId) ?? []), row]);
  return byMessage;
}
