import { compactVerify, createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, type JSONWebKeySet } from "jose";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { errorCodes, postGraphQL } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { startSmtp } from "../helpers/smtp.js";
import { history } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { postGeneric } from "../helpers/webhooks.js";

const CREATE = `mutation ($input: CreateTransferInput!) { createTransfer(input: $input) { id } }`;
const TRANSFER = `query ($id: ID!) { transfer(id: $id) { status downloadedAt downloadReceipt } }`;
const VERIFY = `query ($jws: String!) { verifyReceipt(jws: $jws) { valid transferId downloadedAt reason } }`;
const RECORD = `mutation ($input: RecordDownloadInput!) { recordDownload(input: $input) { downloadReceipt } }`;
const SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
/** The partner's own storage: a recorded download is sent there (303), so no file needs uploading here. */
const DOWNLOAD_URL_TEMPLATE = "https://files.example.test/t/{transferId}";

async function signingKey(kid: string) {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return { ...(await exportJWK(privateKey)), kid };
}

/** The same JWS with one character of its payload changed (still valid base64url). */
function oneByteChanged(jws: string): string {
  const [header, payload, signature] = jws.split(".") as [string, string, string];
  const at = Math.floor(payload.length / 2);
  const changed = payload[at] === "A" ? "B" : "A";
  return [header, `${payload.slice(0, at)}${changed}${payload.slice(at + 1)}`, signature].join(".");
}

describe("signed download receipts", () => {
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let server: TestServer;
  let tenant: string;
  let token: string;
  let phone = 2000;
  const oldKey = signingKey("receipts-2025");

  const gql = async <T>(target: TestServer, query: string, variables: Record<string, unknown>, as = token): Promise<T> => {
    const result = await postGraphQL(target.url, { query, variables }, as);
    expect(result.body.errors).toBeUndefined();
    return result.body.data as T;
  };
  /** A transfer whose RCS notification was sent, delivered and read, and its recipient's link. */
  async function notified(target: TestServer, extra: Record<string, unknown> = {}) {
    const input = { recipient: { phone: `+1416777${phone++}` }, fileName: "audit-pack.zip", fileSizeBytes: 4096, senderName: "Acme", ...extra };
    const { createTransfer } = await gql<{ createTransfer: { id: string } }>(target, CREATE, { input });
    const send = await cpaas.waitForSend(createTransfer.id);
    for (const event of ["message.sent", "message.delivered", "message.read"]) {
      const result = await postGeneric(target.url, { event, timestamp: new Date().toISOString(), message_id: send.providerMessageId, channel: "rcs" });
      expect(result.status).toBe(200);
    }
    return { id: createTransfer.id, link: send.body.params.link };
  }
  const download = (link: string) =>
    fetch(link, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "auditor-phone/2.0" }, body: "" });
  const receiptOf = async (target: TestServer, id: string) => (await gql<{ transfer: { downloadReceipt: string | null } }>(target, TRANSFER, { id })).transfer.downloadReceipt;

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    smtp = await startSmtp();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, SMTP_URL: smtp.url, DOWNLOAD_URL_TEMPLATE, SIGNING_KEY: JSON.stringify(await oldKey) } });
    tenant = uniqueTenant("receipts");
    token = await tokenFor(tenant);
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
    await cpaas?.close();
  });

  describe("succeeding", () => {
    it("the first download issues a receipt: on the transfer, in the DOWNLOADED event, emailed to the sender; a second download issues none", async () => {
      const { id, link } = await notified(server, { senderEmail: "dataops@acme.example" });
      expect((await download(link)).status).toBe(303);
      const receipt = await receiptOf(server, id);
      expect(receipt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(decodeProtectedHeader(receipt!)).toEqual({ alg: "EdDSA", kid: "receipts-2025", typ: "ackline-receipt+jwt" });

      const mail = await eventually(() => smtp.received.find((received) => received.to.includes("dataops@acme.example")), "the receipt email");
      expect(mail.mail.subject).toContain(id);
      expect(mail.mail.text).toContain(receipt);
      expect(mail.mail.attachments.map((attachment) => [attachment.filename, attachment.content.toString()])).toEqual([["receipt.jws", receipt]]);

      expect((await download(link)).status).toBe(303);
      const downloads = (await history(server, token, id)).filter((event) => event.event === "DOWNLOADED");
      expect(downloads.map((event) => event.metadata.receipt ?? null)).toEqual([receipt, null]);
      expect(await receiptOf(server, id)).toBe(receipt);
      expect(smtp.received.filter((received) => received.to.includes("dataops@acme.example"))).toHaveLength(1);
    });

    it("verifies offline with a JOSE library and the JWKS alone, fetched over HTTP, and fails after a one-byte change", async () => {
      const { id, link } = await notified(server);
      const sql = postgres(server.databaseUrl!, { max: 1, onnotice: () => {} });
      await sql`UPDATE transfers SET file_sha256 = ${SHA256} WHERE id = ${id}`.finally(() => sql.end());
      await download(link);
      const receipt = (await receiptOf(server, id))!;

      // What anyone holding the receipt can do, without Ackline's API or database.
      const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
      const keys = createLocalJWKSet(jwks);
      const { payload, protectedHeader } = await compactVerify(receipt, keys);
      expect(protectedHeader.kid).toBe("receipts-2025");
      const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      expect(claims).toMatchObject({
        iss: server.url,
        sub: id,
        tenant_id: tenant,
        file_name: "audit-pack.zip",
        file_sha256: SHA256,
        ip: "127.0.0.1",
      });
      expect((claims.recipient as { phone: string }).phone).toMatch(/^\+1416777/);
      expect(Number.isNaN(Date.parse(claims.downloaded_at as string))).toBe(false);
      // The notification's story: sent, delivered and read, each with its first time.
      const [rcs, ...others] = claims.history as Array<Record<string, string | null>>;
      expect(others).toEqual([]);
      expect(rcs!.channel).toBe("RCS");
      for (const step of ["sent_at", "delivered_at", "read_at"]) expect(Number.isNaN(Date.parse(rcs![step] ?? ""))).toBe(false);

      await expect(compactVerify(oneByteChanged(receipt), keys)).rejects.toThrow(/signature verification failed/);
      const verified = await gql<{ verifyReceipt: Record<string, unknown> }>(server, VERIFY, { jws: receipt });
      expect(verified.verifyReceipt).toEqual({ valid: true, transferId: id, downloadedAt: claims.downloaded_at, reason: null });
    });

    it("recordDownload issues the receipt too, with no address (the partner's storage saw the recipient)", async () => {
      const { id } = await notified(server);
      const { recordDownload } = await gql<{ recordDownload: { downloadReceipt: string } }>(server, RECORD, { input: { transferId: id } });
      const [, payload] = recordDownload.downloadReceipt.split(".");
      expect(JSON.parse(Buffer.from(payload!, "base64url").toString())).toMatchObject({ sub: id, ip: null });
    });

    it("after a rotation (SIGNING_KEY an array, the new key first) old receipts still verify and new ones carry the new kid", async () => {
      const { id, link } = await notified(server);
      await download(link);
      const oldReceipt = (await receiptOf(server, id))!;
      // Another instance on the same database, started with the rotated keys (its dispatcher sends too: it is closed after).
      const rotated = await startTestServer({
        databaseUrl: server.databaseUrl,
        env: { CPAAS_API_URL: cpaas.url, DOWNLOAD_URL_TEMPLATE, SIGNING_KEY: JSON.stringify([await signingKey("receipts-2026"), await oldKey]) },
      });
      try {
        const jwks = (await (await fetch(`${rotated.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
        expect(jwks.keys.map((key) => key.kid)).toEqual(["receipts-2026", "receipts-2025"]);
        expect((await gql<{ verifyReceipt: { valid: boolean } }>(rotated, VERIFY, { jws: oldReceipt })).verifyReceipt.valid).toBe(true);
        await compactVerify(oldReceipt, createLocalJWKSet(jwks));

        const fresh = await notified(rotated);
        const freshLink = new URL(fresh.link);
        await download(`${rotated.url}${freshLink.pathname}${freshLink.search}`);
        expect(decodeProtectedHeader((await receiptOf(rotated, fresh.id))!).kid).toBe("receipts-2026");
      } finally {
        await rotated.close();
      }
    });
  });

  describe("failing", () => {
    it("verifyReceipt says why: a changed byte, another tenant's receipt, a link token, garbage; it needs transfers:read", async () => {
      const { id, link } = await notified(server);
      await download(link);
      const receipt = (await receiptOf(server, id))!;
      const verify = async (jws: string, as = token) => (await gql<{ verifyReceipt: { valid: boolean; transferId: string | null; reason: string | null } }>(server, VERIFY, { jws }, as)).verifyReceipt;

      const changed = await verify(oneByteChanged(receipt));
      expect([changed.valid, changed.transferId, changed.reason]).toEqual([false, null, "not a valid receipt: signature verification failed"]);
      expect(await verify(receipt, await tokenFor(uniqueTenant("receipts")))).toMatchObject({ valid: false, reason: "the receipt belongs to another tenant" });
      const linkToken = new URL(link).searchParams.get("tok") ?? link.split("/").pop()!;
      expect((await verify(linkToken)).valid).toBe(false);
      const garbage = await verify("not a jws");
      expect(garbage.valid).toBe(false);
      expect(garbage.reason).toMatch(/^not a valid receipt/);

      const writeOnly = await tokenFor(tenant, { scopes: ["transfers:write"] });
      expect(errorCodes((await postGraphQL(server.url, { query: VERIFY, variables: { jws: receipt } }, writeOnly)).body)).toEqual(["FORBIDDEN"]);
    });

    it("a malformed senderEmail is BAD_USER_INPUT naming it", async () => {
      const input = { recipient: { phone: "+14167770001" }, fileName: "a.zip", fileSizeBytes: 1, senderName: "Acme", senderEmail: "not-an-address" };
      const result = await postGraphQL(server.url, { query: CREATE, variables: { input } }, token);
      expect(result.body.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "senderEmail" });
    });
  });
});
