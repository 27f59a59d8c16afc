import { type SQL, sql } from "drizzle-orm";
import type { Queryable } from "./client.js";

/*
 * Statements on the hot paths have fixed text with one array parameter per column, so each is
 * prepared once and reused whatever the batch size (a list of N placeholders would be rebuilt and
 * re-prepared for every batch). Dates cross as ISO text: drizzle leaves timestamp parsing off.
 */
export const textArray = (values: ReadonlyArray<string | null>): SQL => sql`${sql.param(values)}::text[]`;
export const timestamp = (date: Date): SQL => sql`${sql.param(date.toISOString())}::timestamptz`;

/** Rows of a raw statement, whichever driver runs it (postgres.js returns an array, PGlite `{ rows }`). */
export async function selectRows<T>(db: Queryable, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
