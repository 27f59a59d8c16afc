import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postForm } from "../helpers/links.js";
import { FILES, type ProofFixture, startProofFixture } from "../helpers/proof.js";
import { getTransfer } from "../helpers/transfers.js";
import { eventually } from "../helpers/wait.js";

describe("short links /d/<code>: opening, downloading, one-time codes", () => {
  let proof: ProofFixture;

  beforeAll(async () => {
    proof = await startProofFixture({ DOWNLOAD_URL_TEMPLATE: FILES });
  });
  afterAll(async () => {
    await proof?.close();
  });

  const statusOf = async (transferId: string) => (await getTransfer(proof.server, proof.token, transferId))!.status;
  const otpOf = async (transferId: string, nth = 1) => eventually(() => proof.cpaas.otpsFor(transferId)[nth - 1], "the code's SMS");

  it("every notification carries <PUBLIC_BASE_URL>/d/<32 URL-safe characters>, one per message and channel", async () => {
    const transfer = await proof.create({ recipient: { phone: "+14165553999", email: "auditor@example.com" } });
    const rcs = await proof.linkOf(transfer.id);
    const email = await proof.emailLinkOf(transfer.id);
    for (const link of [rcs, email]) expect(link.toString()).toMatch(new RegExp(`^${proof.server.url}/d/[A-Za-z0-9_-]{32}$`));
    expect(rcs.pathname).not.toBe(email.pathname);
  });

  it("opening the link shows the file and the signing key, records LINK_OPENED on the message, and moves no status", async () => {
    const transfer = await proof.create({ description: "Q4 <numbers>" });
    const link = await proof.linkOf(transfer.id);
    const before = await statusOf(transfer.id);
    const landing = await fetch(link, { headers: { "user-agent": "link-preview/1.0" } });
    expect(landing.status).toBe(200);
    const page = await landing.text();
    expect(page).toContain("ledger.zip");
    expect(page).toContain("Acme DataOps");
    expect(page).toContain("Q4 &lt;numbers&gt;");
    expect(page).toContain(`action="${link.pathname}"`);
    expect(page).toContain("Verify this sender");
    expect(page).toContain("ack-test-key");
    expect(page).toContain("/.well-known/jwks.json");

    const [opened] = await proof.events(transfer.id, "LINK_OPENED");
    expect(opened).toMatchObject({ messageId: transfer.messages[0]!.id, channel: "RCS", source: "gateway" });
    expect(opened!.metadata).toMatchObject({ user_agent: "link-preview/1.0" });
    expect(await statusOf(transfer.id)).toBe(before);
    expect(await proof.events(transfer.id, "DOWNLOADED")).toEqual([]);
    expect((await proof.audit(transfer.id)).map((entry) => entry.action)).toContain("link.open");
  });

  it("the Download button records DOWNLOADED with the client, counts it, and redirects (303) to the file", async () => {
    const transfer = await proof.create();
    const response = await postForm(await proof.linkOf(transfer.id), {}, { "user-agent": "phone-browser/2.0" });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(FILES.replace("{transferId}", transfer.id));
    const [downloaded] = await proof.events(transfer.id, "DOWNLOADED");
    expect(downloaded!.metadata).toMatchObject({ user_agent: "phone-browser/2.0", message_id: transfer.messages[0]!.id, channel: "RCS" });
    expect(typeof downloaded!.metadata.ip).toBe("string");
    const after = await getTransfer(proof.server, proof.token, transfer.id);
    expect(after).toMatchObject({ status: "DOWNLOADED" });
    expect(((await proof.audit(transfer.id)).find((entry) => entry.action === "transfer.download"))?.details).toMatchObject({ via: "short-link", downloadNumber: 1 });
  });

  it("ten concurrent clicks of a one-time link: exactly one 303, nine 410", async () => {
    const transfer = await proof.create({ security: { maxDownloads: 1 } });
    const link = await proof.linkOf(transfer.id);
    const statuses = (await Promise.all(Array.from({ length: 10 }, () => postForm(link)))).map((response) => response.status);
    expect(statuses.filter((status) => status === 303)).toHaveLength(1);
    expect(statuses.filter((status) => status === 410)).toHaveLength(9);
    expect(await proof.events(transfer.id, "DOWNLOADED")).toHaveLength(1);
    const [row] = await proof.sql<Array<{ download_count: number }>>`SELECT download_count FROM transfers WHERE id = ${transfer.id}`;
    expect(row!.download_count).toBe(1);
  });

  it("with requireOtp the button sends a code by SMS (template ackline_otp) and shows its form; the right code downloads", async () => {
    const transfer = await proof.create({ security: { requireOtp: true } });
    const link = await proof.linkOf(transfer.id);
    const asked = await postForm(link);
    expect(asked.status).toBe(200);
    const form = await asked.text();
    expect(form).toContain(`action="${link.pathname}/otp"`);
    expect(form).toContain('name="code"');
    expect(await proof.events(transfer.id, "DOWNLOADED")).toEqual([]);

    const sms = await otpOf(transfer.id);
    expect(sms).toMatchObject({ type: "sms", template_id: "ackline_otp", params: { transfer_id: transfer.id } });
    expect(sms.params.code).toMatch(/^\d{6}$/);
    const [stored] = await proof.sql<Array<{ code_hash: string }>>`SELECT code_hash FROM link_otps WHERE message_id = ${transfer.messages[0]!.id}`;
    expect(stored!.code_hash).not.toContain(sms.params.code);

    const done = await postForm(`${link.toString()}/otp`, { code: sms.params.code });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(FILES.replace("{transferId}", transfer.id));
    expect(await proof.events(transfer.id, "DOWNLOADED")).toHaveLength(1);
    // The code is spent.
    expect((await postForm(`${link.toString()}/otp`, { code: sms.params.code })).status).toBe(403);
    const tries = (await proof.audit(transfer.id)).filter((entry) => entry.action.startsWith("otp."));
    expect(tries.map((entry) => [entry.action, entry.details.outcome ?? entry.details.channel])).toEqual([
      ["otp.send", "SMS"],
      ["otp.verify", "right"],
      ["otp.verify", "expired"],
    ]);
  });

  it("without a phone the code goes by email", async () => {
    const transfer = await proof.create({ recipient: { email: "no-phone@example.com" }, security: { requireOtp: true } });
    const link = await proof.emailLinkOf(transfer.id);
    const asked = await postForm(link);
    expect(asked.status).toBe(200);
    expect(await asked.text()).toContain("email");
    const mail = await eventually(() => proof.smtp.received.find((received) => received.mail.subject?.startsWith("Your download code")), "the code's email");
    expect(mail.to).toEqual(["no-phone@example.com"]);
    const code = /is (\d{6})\./.exec(mail.mail.text ?? "")![1]!;
    expect((await postForm(`${link.toString()}/otp`, { code })).status).toBe(303);
  });
});
