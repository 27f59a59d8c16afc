import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCodes, postGraphQL } from "../helpers/graphql.js";
import { type ProofFixture, startProofFixture } from "../helpers/proof.js";
import { tokenFor } from "../helpers/server.js";
import { uniqueTenant } from "../helpers/wait.js";

const POLICY_FIELDS = "linkTtlMinutes maxDownloads requireOtp complianceMode pinnedRegion auditRetentionDays updatedBy";
const GET = `{ securityPolicy { ${POLICY_FIELDS} } }`;
const SET = `mutation ($input: SecurityPolicyInput!) { setSecurityPolicy(input: $input) { ${POLICY_FIELDS} } }`;

describe("securityPolicy, setSecurityPolicy, compliance mode and residency (STORAGE_REGION)", () => {
  let proof: ProofFixture;

  beforeAll(async () => {
    proof = await startProofFixture({ STORAGE_REGION: "eu-central-1", DOWNLOAD_URL_TEMPLATE: "https://files.example.com/{transferId}" });
  });
  afterAll(async () => {
    await proof?.close();
  });

  const setPolicy = (input: Record<string, unknown>, token: string) => postGraphQL(proof.server.url, { query: SET, variables: { input } }, token);
  const createAs = (token: string, input: Record<string, unknown> = {}) =>
    postGraphQL(
      proof.server.url,
      {
        query: `mutation ($input: CreateTransferInput!) { createTransfer(input: $input) { id storageRegion security { linkTtlMinutes maxDownloads requireOtp } } }`,
        variables: { input: { recipient: { phone: "+14165554000" }, fileName: "a.zip", fileSizeBytes: 1, senderName: "Acme", ...input } },
      },
      token,
    );

  it("a transfer records its own security, fileSha256, downloadCount and this deployment's region", async () => {
    const transfer = await proof.create({ fileSha256: "AB".repeat(32), security: { linkTtlMinutes: 15, maxDownloads: 3 } });
    expect(transfer).toMatchObject({
      fileSha256: "ab".repeat(32),
      downloadCount: 0,
      storageRegion: "eu-central-1",
      security: { linkTtlMinutes: 15, maxDownloads: 3, requireOtp: false },
    });
    // The notification's expiry is the link's: 15 minutes after the send, not the transfer's week.
    const expiry = new Date((await proof.cpaas.waitForSend(transfer.id)).body.params.expiry).getTime();
    expect(expiry).toBeLessThanOrEqual(Date.now() + 15 * 60_000);
    expect(expiry).toBeGreaterThan(Date.now() + 13 * 60_000);
  });

  it("the tenant's defaults apply where the transfer asks nothing; its own request wins where it does", async () => {
    const token = await tokenFor(uniqueTenant("defaults"));
    expect((await postGraphQL(proof.server.url, { query: GET }, token)).body.data).toEqual({
      securityPolicy: { linkTtlMinutes: null, maxDownloads: null, requireOtp: false, complianceMode: false, pinnedRegion: null, auditRetentionDays: null, updatedBy: null },
    });
    expect((await setPolicy({ linkTtlMinutes: 120, requireOtp: true }, token)).body.errors).toBeUndefined();
    const defaulted = await createAs(token);
    expect(defaulted.body.data).toMatchObject({ createTransfer: { security: { linkTtlMinutes: 120, maxDownloads: null, requireOtp: true } } });
    const own = await createAs(token, { security: { requireOtp: false, maxDownloads: 2 } });
    expect(own.body.data).toMatchObject({ createTransfer: { security: { linkTtlMinutes: 120, maxDownloads: 2, requireOtp: false } } });
  });

  it("compliance mode forces OTP, caps the link TTL at 60 minutes and downloads at 1, keeps the audit trail 7 years; audited", async () => {
    const token = await tokenFor(uniqueTenant("compliance"));
    const set = await setPolicy({ complianceMode: true, linkTtlMinutes: 600, maxDownloads: 5, requireOtp: false }, token);
    expect(set.body.data).toMatchObject({
      setSecurityPolicy: { complianceMode: true, requireOtp: true, linkTtlMinutes: 60, maxDownloads: 1, auditRetentionDays: 2557 },
    });
    expect((set.body.data as { setSecurityPolicy: { updatedBy: unknown } }).setSecurityPolicy.updatedBy).toEqual(expect.any(String));
    const created = await createAs(token, { security: { linkTtlMinutes: 240, maxDownloads: 10, requireOtp: false } });
    expect(created.body.data).toMatchObject({ createTransfer: { security: { linkTtlMinutes: 60, maxDownloads: 1, requireOtp: true } } });
    const shorter = await createAs(token, { security: { linkTtlMinutes: 5 } });
    expect(shorter.body.data).toMatchObject({ createTransfer: { security: { linkTtlMinutes: 5, maxDownloads: 1, requireOtp: true } } });
    const [audited] = await proof.sql<Array<{ details: { after: { complianceMode: boolean } } }>>`SELECT details FROM audit_log WHERE action = 'security_policy.set' AND actor LIKE ${"%compliance-%"} ORDER BY id DESC LIMIT 1`;
    expect(audited!.details.after.complianceMode).toBe(true);
  });

  it("a tenant pinned to another region cannot create transfers here (CONFLICT); pinned to this one, it can", async () => {
    const token = await tokenFor(uniqueTenant("residency"));
    await setPolicy({ pinnedRegion: "us-east-1" }, token);
    const refused = await createAs(token);
    expect(errorCodes(refused.body)).toEqual(["CONFLICT"]);
    expect(refused.body.errors![0]!.extensions).toMatchObject({ pinnedRegion: "us-east-1", storageRegion: "eu-central-1" });
    await setPolicy({ pinnedRegion: "eu-central-1" }, token);
    expect((await createAs(token)).body.data).toMatchObject({ createTransfer: { storageRegion: "eu-central-1" } });
  });

  it("bad input is BAD_USER_INPUT naming the field; a read-only token is FORBIDDEN; no token UNAUTHENTICATED", async () => {
    const token = await tokenFor(uniqueTenant("bad"));
    for (const [input, field] of [
      [{ linkTtlMinutes: 0 }, "linkTtlMinutes"],
      [{ maxDownloads: -1 }, "maxDownloads"],
      [{ pinnedRegion: "Not A Region!" }, "pinnedRegion"],
    ] as const) {
      const result = await setPolicy(input, token);
      expect(errorCodes(result.body)).toEqual(["BAD_USER_INPUT"]);
      expect(result.body.errors![0]!.extensions!.field).toBe(field);
    }
    const badSha = await createAs(token, { fileSha256: "not-hex" });
    expect(errorCodes(badSha.body)).toEqual(["BAD_USER_INPUT"]);
    expect(badSha.body.errors![0]!.extensions!.field).toBe("fileSha256");
    const badTtl = await createAs(token, { security: { linkTtlMinutes: 0 } });
    expect(badTtl.body.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "security.linkTtlMinutes" });
    const readOnly = await tokenFor(uniqueTenant("bad"), { scopes: ["transfers:read"] });
    expect(errorCodes((await setPolicy({ complianceMode: true }, readOnly)).body)).toEqual(["FORBIDDEN"]);
    const anonymous = await postGraphQL(proof.server.url, { query: GET });
    expect(errorCodes(anonymous.body)).toEqual(["UNAUTHENTICATED"]);
  });
});
