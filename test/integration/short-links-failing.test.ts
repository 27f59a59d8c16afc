import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SigningKeys } from "../../src/auth/signing-keys.js";
import { postGraphQL } from "../helpers/graphql.js";
import { legacyLink, postForm, testSigningKeys } from "../helpers/links.js";
import { FILES, type ProofFixture, startProofFixture } from "../helpers/proof.js";
import { eventually } from "../helpers/wait.js";

describe("short links /d/<code>: what is refused", () => {
  let proof: ProofFixture;

  beforeAll(async () => {
    proof = await startProofFixture({ DOWNLOAD_URL_TEMPLATE: FILES });
  });
  afterAll(async () => {
    await proof?.close();
  });

  /** Opening and clicking both answer `status`, the page says so, never the file, nothing downloaded. */
  async function refused(link: URL | string, status: number, text: RegExp) {
    const opened = await fetch(link, { redirect: "manual" });
    expect(opened.status).toBe(status);
    expect(await opened.text()).toMatch(text);
    const clicked = await postForm(link);
    expect(clicked.status).toBe(status);
    expect(clicked.headers.get("location")).toBeNull();
    expect((await postForm(`${link.toString()}/otp`, { code: "123456" })).status).toBe(status);
  }
  const refusals = async (transferId: string) =>
    (await proof.audit(transferId)).filter((entry) => entry.action === "link.refused").map((entry) => entry.details.reason);

  it("a tampered code (any character changed) is 403 and audited", async () => {
    const transfer = await proof.create();
    const link = await proof.linkOf(transfer.id);
    const code = link.pathname.slice(3);
    // The last character carries the MAC; the 20th the expiry.
    for (const index of [31, 20]) {
      const tampered = `${code.slice(0, index)}${code[index] === "A" ? "B" : "A"}${code.slice(index + 1)}`;
      await refused(`${proof.server.url}/d/${tampered}`, 403, /not valid/);
    }
    expect(await refusals(transfer.id)).toContain("tampered");
    expect(await proof.events(transfer.id, "DOWNLOADED")).toEqual([]);
    expect(await proof.events(transfer.id, "LINK_OPENED")).toEqual([]);
  });

  it("an unknown code, or no code at all, is 403", async () => {
    await refused(`${proof.server.url}/d/${"x".repeat(32)}`, 403, /not valid/);
    await refused(`${proof.server.url}/d/short`, 403, /not valid/);
  });

  it("a foreign code (another deployment's key, for a real message) is 403 and audited", async () => {
    const transfer = await proof.create();
    await proof.linkOf(transfer.id);
    const foreignJwk = { ...generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }), kid: "elsewhere" };
    const foreign = (await SigningKeys.load([foreignJwk])).linkCodes.issue(
      { messageId: transfer.messages[0]!.id, transferId: transfer.id, channel: "RCS" },
      new Date(Date.now() + 3_600_000),
    );
    await refused(`${proof.server.url}/d/${foreign}`, 403, /not valid/);
    expect(await refusals(transfer.id)).toContain("tampered");
  });

  it("a code moved to another channel of the same message is 403", async () => {
    const transfer = await proof.create();
    await proof.linkOf(transfer.id);
    const moved = (await testSigningKeys()).linkCodes.issue({ messageId: transfer.messages[0]!.id, transferId: transfer.id, channel: "SMS" }, new Date(Date.now() + 3_600_000));
    await refused(`${proof.server.url}/d/${moved}`, 403, /not valid/);
  });

  it("an expired link is 410 Gone and audited", async () => {
    const transfer = await proof.create();
    await proof.linkOf(transfer.id);
    const expired = (await testSigningKeys()).linkCodes.issue({ messageId: transfer.messages[0]!.id, transferId: transfer.id, channel: "RCS" }, new Date(Date.now() - 1000));
    await refused(`${proof.server.url}/d/${expired}`, 410, /expired/);
    expect(await refusals(transfer.id)).toContain("expired");
    expect(await proof.events(transfer.id, "DOWNLOADED")).toEqual([]);
  });

  it("a revoked transfer's link is 410 Gone and audited", async () => {
    const transfer = await proof.create();
    const link = await proof.linkOf(transfer.id);
    await postGraphQL(proof.server.url, { query: `mutation ($id: ID!) { revokeTransfer(id: $id) { status } }`, variables: { id: transfer.id } }, proof.token);
    await refused(link, 410, /withdrawn/);
    expect(await refusals(transfer.id)).toContain("revoked");
  });

  it("a one-time link replayed after its download is 410 Gone and audited", async () => {
    const transfer = await proof.create({ security: { maxDownloads: 1 } });
    const link = await proof.linkOf(transfer.id);
    expect((await postForm(link)).status).toBe(303);
    await refused(link, 410, /used as many times/);
    expect(await refusals(transfer.id)).toContain("exhausted");
    expect(await proof.events(transfer.id, "DOWNLOADED")).toHaveLength(1);
  });

  it("OTP: a wrong code is 403, the fifth wrong code voids it (429) even for the right code, until a new one is sent", async () => {
    const transfer = await proof.create({ security: { requireOtp: true } });
    const link = await proof.linkOf(transfer.id);
    const verify = `${link.toString()}/otp`;
    expect((await postForm(link)).status).toBe(200);
    const first = (await eventually(() => proof.cpaas.otpsFor(transfer.id)[0], "the first code")).params.code;
    const wrong = first === "000000" ? "000001" : "000000";
    for (let attempt = 1; attempt <= 4; attempt++) {
      const answer = await postForm(verify, { code: wrong });
      expect(answer.status).toBe(403);
      expect(await answer.text()).toContain("not right");
    }
    const fifth = await postForm(verify, { code: wrong });
    expect(fifth.status).toBe(429);
    expect(await fifth.text()).toContain("Ask for a new one");
    expect((await postForm(verify, { code: first })).status).toBe(429);
    expect(await proof.events(transfer.id, "DOWNLOADED")).toEqual([]);

    expect((await postForm(link)).status).toBe(200);
    const second = (await eventually(() => proof.cpaas.otpsFor(transfer.id)[1], "a new code")).params.code;
    expect((await postForm(verify, { code: second })).status).toBe(303);
    const outcomes = (await proof.audit(transfer.id)).filter((entry) => entry.action === "otp.verify").map((entry) => entry.details.outcome);
    expect(outcomes).toEqual(["wrong", "wrong", "wrong", "wrong", "voided", "voided", "right"]);
  });

  it("OTP: asking again within 30 seconds sends no second code (429 with Retry-After); the first one still works", async () => {
    const transfer = await proof.create({ security: { requireOtp: true } });
    const link = await proof.linkOf(transfer.id);
    const [first, again] = [await postForm(link), await postForm(link)];
    expect(first.status).toBe(200);
    expect(again.status).toBe(429);
    expect(again.headers.get("retry-after")).toBe("30");
    expect(await again.text()).toContain('name="code"');
    const code = (await eventually(() => proof.cpaas.otpsFor(transfer.id)[0], "the code")).params.code;
    expect(proof.cpaas.otpsFor(transfer.id)).toHaveLength(1);
    expect((await postForm(`${link.toString()}/otp`, { code })).status).toBe(303);
  });

  it("OTP: a download without the code never happens; the old /t/ link of such a transfer is refused too", async () => {
    const transfer = await proof.create({ security: { requireOtp: true } });
    const link = await proof.linkOf(transfer.id);
    expect((await postForm(`${link.toString()}/otp`, {})).status).toBe(403);
    expect((await postForm(`${link.toString()}/otp`, { code: "12345x" })).status).toBe(403);
    expect((await postForm(await legacyLink(proof.server.url, transfer.id))).status).toBe(403);
    expect(await proof.events(transfer.id, "DOWNLOADED")).toEqual([]);
  });
});
