/**
 * `npm run seed:large`: seeds tenant `large` in DATABASE_URL with SEED_TRANSFERS transfers
 * (default 250,000) and four receipt events per transfer on average (1,000,000), spread over the
 * last 90 days, across channels, providers, 20 carriers in 5 regions, with the facts statistics
 * read. Generated inside PostgreSQL (INSERT … SELECT), so nothing crosses the wire row by row.
 * The tenant's earlier rows are replaced.
 */
import postgres from "postgres";
import { openDatabase } from "../src/db/client.js";
import { SEED_LARGE_SQL, SEED_TENANT } from "./seed-large.sql.js";

export async function seedLarge(url: string, transfers: number, log: (line: string) => void = console.log): Promise<void> {
  // Migrates the database first, like any Ackline instance would.
  const handle = await openDatabase({ url, dataDir: "", poolSize: 1 });
  await handle.close();
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    for (const [step, statement] of SEED_LARGE_SQL) {
      const started = performance.now();
      // Each statement is bound to the parameters it names.
      const parameters = [SEED_TENANT, transfers].filter((_, index) => statement.includes(`$${index + 1}`));
      const result = await sql.unsafe(statement, parameters);
      log(`  ${step}: ${result.count} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await sql.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error("seed:large needs DATABASE_URL (a PostgreSQL database; its tenant `large` is replaced)");
    process.exit(2);
  }
  const transfers = Number(process.env.SEED_TRANSFERS ?? 250_000);
  if (!Number.isInteger(transfers) || transfers < 1) {
    console.error("SEED_TRANSFERS must be a positive integer");
    process.exit(2);
  }
  const started = performance.now();
  console.log(`seeding tenant ${SEED_TENANT}: ${transfers} transfers, ~${transfers * 4} receipt events`);
  await seedLarge(url, transfers);
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
