import postgres from "postgres";
import { GroupCommitter } from "../src/domain/group-commit.js";

/** Batches and lanes of the floors' group commit: those of the minimal door in `../shared/bench-floor`. */
const MAX_BATCH = 500;
const LANES = 2;

/**
 * The floors' durable append (`door-server.ts`, `floor-server.ts`): requests gathered into batches
 * of up to 500 rows on two lanes, each batch one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO
 * NOTHING`; `append` resolves once its batch is committed.
 */
export async function openFloorStore(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: LANES, prepare: true, onnotice: () => {} });
  await sql`CREATE TABLE IF NOT EXISTS floor_events (id bigserial PRIMARY KEY, dedupe_key text UNIQUE NOT NULL, raw jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())`;
  const committer = new GroupCommitter<{ dedupeKey: string; raw: string }, void>(
    async (rows) => {
      await sql`INSERT INTO floor_events (dedupe_key, raw)
        SELECT * FROM unnest(${rows.map((row) => row.dedupeKey)}::text[], ${rows.map((row) => row.raw)}::jsonb[]) ON CONFLICT DO NOTHING`;
      return rows.map(() => undefined);
    },
    { maxBatch: MAX_BATCH, concurrency: LANES },
  );
  return {
    append: async (rows: Array<{ dedupeKey: string; raw: string }>) => {
      await committer.submit(rows);
    },
    close: () => sql.end({ timeout: 2 }),
  };
}
