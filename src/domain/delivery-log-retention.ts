import { sql } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { selectRows } from "../db/sql.js";
import { deliveryIdFloor } from "./ids.js";

const BATCH = 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes logged deliveries older than `retentionDays`, a thousand at a time. Ids start with the
 * receipt time, so the old rows are a range of the primary key: each batch reads only rows it
 * deletes, and rows another instance is deleting are skipped, not waited on. Events keep their
 * (now dangling) delivery id: the event log outlives its deliveries' bodies.
 */
export async function expireDeliveries(db: Database, retentionDays: number, now = new Date()): Promise<number> {
  const floor = deliveryIdFloor(new Date(now.getTime() - retentionDays * DAY_MS));
  let total = 0;
  for (;;) {
    const [row] = await selectRows<{ deleted: string | number }>(
      db,
      sql`WITH expired AS (
            DELETE FROM webhook_deliveries WHERE id IN (
              SELECT id FROM webhook_deliveries WHERE id < ${floor}::uuid ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
            RETURNING 1)
          SELECT count(*) AS deleted FROM expired`,
    );
    const deleted = Number(row?.deleted ?? 0);
    total += deleted;
    if (deleted < BATCH) return total;
  }
}
