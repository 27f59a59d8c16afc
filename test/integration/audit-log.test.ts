import { createHash } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.js";
import { GENESIS_HASH, verifyAuditChain } from "../../src/domain/audit.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { errorCodes, postGraphQL } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { createTestDatabase, hasPostgres } from "../helpers/services.js";
import { uniqueTenant } from "../helpers/wait.js";

/** Tampering is done from outside, on the stored rows: these cases need the real PostgreSQL. */
const skip = !hasPostgres() && process.env.CI !== "true";
if (skip) console.warn("\naudit-log tests SKIPPED: PostgreSQL not reachable (never skipped under CI=true)\n");

const CREATE = `mutation ($input: CreateTransferInput!) { createTransfer(input: $input) { id } }`;
const TRAIL = `query ($id: ID!) { auditTrail(transferId: $id) { seq at actor action ip client transferId details hash prevHash } }`;
const VERIFY = `query { verifyAuditLog { valid entries firstBrokenSeq } }`;

/** The README's definition, written again from the outside: sorted keys, no whitespace. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

describe.skipIf(skip)("the tamper-evident audit log", () => {
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let server: TestServer;
  let sql: postgres.Sql;
  let phone = 1000;

  const create = async (token: string) => {
    const input = { recipient: { phone: `+1416666${phone++}` }, fileName: "ledger.csv", fileSizeBytes: 10, senderName: "Acme" };
    const result = await postGraphQL(server.url, { query: CREATE, variables: { input } }, token);
    expect(result.body.errors).toBeUndefined();
    return (result.body.data as { createTransfer: { id: string } }).createTransfer.id;
  };
  const verify = async (token: string) => {
    const result = await postGraphQL(server.url, { query: VERIFY }, token);
    expect(result.body.errors).toBeUndefined();
    return (result.body.data as { verifyAuditLog: { valid: boolean; entries: number; firstBrokenSeq: number | null } }).verifyAuditLog;
  };

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url } });
    sql = postgres(server.databaseUrl!, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await server?.close();
    await cpaas?.close();
  });

  describe("succeeding", () => {
    it("each entry links to the one before; an outside verifier recomputes every hash from the documented definition", async () => {
      const tenant = uniqueTenant("audit");
      const token = await tokenFor(tenant);
      const id = await create(token);
      await postGraphQL(server.url, { query: `mutation ($id: ID!) { revokeTransfer(id: $id, reason: "wrong file") { id } }`, variables: { id } }, token);
      const trail = await postGraphQL(server.url, { query: TRAIL, variables: { id } }, token);
      expect(trail.body.errors).toBeUndefined();
      const entries = (trail.body.data as { auditTrail: Array<Record<string, unknown> & { seq: number; hash: string; prevHash: string }> }).auditTrail;
      expect(entries.map((entry) => [entry.seq, entry.action, entry.transferId])).toEqual([
        [1, "transfer.create", id],
        [2, "transfer.revoke", id],
      ]);
      expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
      expect(entries[1]!.prevHash).toBe(entries[0]!.hash);
      for (const entry of entries) {
        const content = { tenant_id: tenant, seq: entry.seq, at: entry.at, actor: entry.actor, action: entry.action, transfer_id: entry.transferId, ip: entry.ip, client: entry.client, details: entry.details };
        expect(createHash("sha256").update(entry.prevHash + canonical(content)).digest("hex")).toBe(entry.hash);
      }
      expect(await verify(token)).toEqual({ valid: true, entries: 2, firstBrokenSeq: null });
    });

    it("concurrent writers of one tenant never fork the chain", async () => {
      const token = await tokenFor(uniqueTenant("audit"));
      await Promise.all(Array.from({ length: 16 }, () => create(token)));
      expect(await verify(token)).toEqual({ valid: true, entries: 16, firstBrokenSeq: null });
    });

    it("a migration chains the rows written before the chain existed, per tenant, in the order they were written", async () => {
      const database = (await createTestDatabase())!;
      const folder = await mkdtemp(path.join(tmpdir(), "ackline-migrations-"));
      const client = postgres(database.url, { max: 1, onnotice: () => {} });
      try {
        // The migrations up to the one that added the columns: the log as an older Ackline left it.
        await cp(path.resolve("drizzle"), folder, { recursive: true });
        const journalFile = path.join(folder, "meta/_journal.json");
        const journal = JSON.parse(await readFile(journalFile, "utf8")) as { entries: Array<{ tag: string }> };
        journal.entries = journal.entries.slice(0, journal.entries.findIndex((entry) => entry.tag.endsWith("_audit_chain_backfill")));
        await writeFile(journalFile, JSON.stringify(journal));
        await migrate(drizzle(client), { migrationsFolder: folder });
        await client`INSERT INTO audit_log (tenant_id, actor, action, details, at) VALUES
          ('old-b', 'ops', 'suppression.add', '{"kind":"phone","note":null}', '2026-01-01T00:00:02Z'),
          ('old-a', 'ops', 'transfer.create', '{"channels":["RCS","EMAIL"],"b":1,"a":{"z":true,"y":"é\\n"}}', '2026-01-01T00:00:01Z'),
          ('old-a', 'ops', 'transfer.revoke', '{}', '2026-01-01T00:00:03Z')`;

        const upgraded = await openDatabase({ url: database.url, dataDir: folder });
        try {
          const rows = await client<Array<{ tenant_id: string; seq: string; action: string }>>`SELECT tenant_id, seq, action FROM audit_log ORDER BY tenant_id, seq`;
          expect(rows.map((row) => [row.tenant_id, Number(row.seq), row.action])).toEqual([
            ["old-a", 1, "transfer.create"],
            ["old-a", 2, "transfer.revoke"],
            ["old-b", 1, "suppression.add"],
          ]);
          expect(await verifyAuditChain(upgraded.db, "old-a")).toEqual({ valid: true, entries: 2, firstBrokenSeq: null });
          expect(await verifyAuditChain(upgraded.db, "old-b")).toEqual({ valid: true, entries: 1, firstBrokenSeq: null });
        } finally {
          await upgraded.close();
        }
      } finally {
        await client.end();
        await database.drop();
        await rm(folder, { recursive: true, force: true });
      }
    });
  });

  describe("failing", () => {
    /** A tenant with five entries, and its rows' ids by seq. */
    async function fiveEntries() {
      const tenant = uniqueTenant("audit");
      const token = await tokenFor(tenant);
      for (let index = 0; index < 5; index += 1) await create(token);
      const rows = await sql<Array<{ id: string; seq: string }>>`SELECT id, seq FROM audit_log WHERE tenant_id = ${tenant} ORDER BY seq`;
      return { tenant, token, idOf: (seq: number) => rows[seq - 1]!.id };
    }

    it("an edited row is detected at its seq", async () => {
      const { token, idOf } = await fiveEntries();
      await sql`UPDATE audit_log SET details = details || '{"channels":["EMAIL"]}' WHERE id = ${idOf(3)}`;
      expect(await verify(token)).toEqual({ valid: false, entries: 5, firstBrokenSeq: 3 });
    });

    it("an edited time, actor or address is detected too, even with its hash recomputed", async () => {
      const { token, idOf } = await fiveEntries();
      // Whoever rewrites a row and its own hash breaks the link to the next row.
      await sql`UPDATE audit_log SET ip = '203.0.113.9' WHERE id = ${idOf(2)}`;
      await sql`UPDATE audit_log SET hash = audit_entry_hash(prev_hash, audit_entry_content(tenant_id, seq, at, actor, action, transfer_id, ip, client, details)) WHERE id = ${idOf(2)}`;
      expect(await verify(token)).toEqual({ valid: false, entries: 5, firstBrokenSeq: 3 });
    });

    it("a deleted row is detected at its seq", async () => {
      const { token, idOf } = await fiveEntries();
      await sql`DELETE FROM audit_log WHERE id = ${idOf(2)}`;
      expect(await verify(token)).toEqual({ valid: false, entries: 4, firstBrokenSeq: 2 });
    });

    it("reordered rows are detected at the first of them", async () => {
      const { tenant, token, idOf } = await fiveEntries();
      await sql.begin(async (tx) => {
        await tx`UPDATE audit_log SET seq = -1 WHERE id = ${idOf(4)}`;
        await tx`UPDATE audit_log SET seq = 4 WHERE id = ${idOf(3)}`;
        await tx`UPDATE audit_log SET seq = 3 WHERE tenant_id = ${tenant} AND seq = -1`;
      });
      expect(await verify(token)).toEqual({ valid: false, entries: 5, firstBrokenSeq: 3 });
    });

    it("verifyAuditLog needs audit:read; auditTrail of another tenant's transfer is NOT_FOUND", async () => {
      const owner = await tokenFor(uniqueTenant("audit"));
      const id = await create(owner);
      const readOnly = await tokenFor(uniqueTenant("audit"), { scopes: ["transfers:read"] });
      expect(errorCodes((await postGraphQL(server.url, { query: VERIFY }, readOnly)).body)).toEqual(["FORBIDDEN"]);
      expect(errorCodes((await postGraphQL(server.url, { query: TRAIL, variables: { id } }, readOnly)).body)).toEqual(["NOT_FOUND"]);
      const auditor = await tokenFor(uniqueTenant("audit"), { scopes: ["audit:read"] });
      expect(errorCodes((await postGraphQL(server.url, { query: TRAIL, variables: { id } }, auditor)).body)).toEqual(["FORBIDDEN"]);
    });
  });
});
