import postgres from "postgres";
import { expect } from "vitest";
import { startFakeCpaas } from "./fake-cpaas.js";
import { postGraphQL } from "./graphql.js";
import { TEST_SIGNING_KEY } from "./links.js";
import { startTestServer, tokenFor, type TestServer } from "./server.js";
import { startSmtp } from "./smtp.js";
import { history } from "./transfers.js";
import { eventually, uniqueTenant } from "./wait.js";

export const FILES = "https://files.example.com/transfers/{transferId}";

export const CREATE = `mutation ($input: CreateTransferInput!) {
  createTransfer(input: $input) {
    id status fileSha256 downloadCount storageRegion security { linkTtlMinutes maxDownloads requireOtp }
    messages { id channel }
  }
}`;

export interface CreatedTransfer {
  id: string;
  status: string;
  fileSha256: string | null;
  downloadCount: number;
  storageRegion: string | null;
  security: { linkTtlMinutes: number | null; maxDownloads: number | null; requireOtp: boolean };
  messages: Array<{ id: string; channel: string }>;
}

/**
 * A server for the proof tests (the fake CPaaS for RCS/SMS and codes, a real SMTP server for
 * email, a signing key the test knows), a tenant, and what the tests read back: the links
 * recipients got, the events and the audit log.
 */
export async function startProofFixture(env: Record<string, string> = {}) {
  const cpaas = await startFakeCpaas();
  const smtp = await startSmtp();
  const server: TestServer = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, SMTP_URL: smtp.url, SIGNING_KEY: TEST_SIGNING_KEY, ...env } });
  if (!server.databaseUrl) throw new Error("these tests read the audit log from PostgreSQL: start it (CI always has it)");
  const sql = postgres(server.databaseUrl, { max: 1, onnotice: () => {} });
  const token = await tokenFor(uniqueTenant("proof"));
  let phone = 3000;

  async function create(input: Record<string, unknown> = {}, as = token): Promise<CreatedTransfer> {
    const recipient = "recipient" in input ? input.recipient : { phone: `+1416555${phone++}` };
    const result = await postGraphQL(server.url, { query: CREATE, variables: { input: { fileName: "ledger.zip", fileSizeBytes: 11, senderName: "Acme DataOps", ...input, recipient } } }, as);
    expect(result.body.errors).toBeUndefined();
    return (result.body.data as { createTransfer: CreatedTransfer }).createTransfer;
  }

  return {
    server,
    cpaas,
    smtp,
    sql,
    token,
    create,
    /** The short link in the transfer's RCS notification. */
    linkOf: async (transferId: string) => new URL((await cpaas.waitForSend(transferId)).body.params.link),
    /** The short link in the transfer's email. */
    emailLinkOf: async (transferId: string) => {
      const mail = await eventually(() => smtp.received.find((received) => received.mail.subject?.includes(`[${transferId}]`)), "the email copy");
      return new URL(/Download: (\S+)/.exec(mail.mail.text ?? "")![1]!);
    },
    events: async (transferId: string, type?: string) => (await history(server, token, transferId)).filter((event) => !type || event.event === type),
    audit: async (transferId: string) =>
      (await sql<Array<{ action: string; actor: string; details: Record<string, unknown> }>>`SELECT action, actor, details FROM audit_log WHERE transfer_id = ${transferId} ORDER BY id`).map(
        ({ action, actor, details }) => ({ action, actor, details }),
      ),
    async close() {
      await sql.end();
      await server.close();
      await cpaas.close();
      await smtp.close();
    },
  };
}

export type ProofFixture = Awaited<ReturnType<typeof startProofFixture>>;
