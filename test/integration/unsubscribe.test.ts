import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateTransferDocument, GetTransferDocument, SuppressionsDocument } from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { legacyLink, TEST_SIGNING_KEY } from "../helpers/links.js";
import { graphql } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { rawHeader, startSmtp } from "../helpers/smtp.js";
import { history } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";

describe("email unsubscribe: the one-click link in every email copy", () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let server: TestServer;
  let token: string;
  let counter = 0;

  const create = async (email: string) => {
    const input = { recipient: { phone: `+1416559${String(1000 + counter++)}`, email }, fileName: "minutes.pdf", fileSizeBytes: 1, senderName: "Acme" };
    const created = await graphql(server.url, CreateTransferDocument, { input }, token);
    expect(created.body.errors).toBeUndefined();
    return created.body.data!.createTransfer;
  };
  /** The unsubscribe link of the email sent for this transfer, from its List-Unsubscribe header. */
  const unsubscribeLinkOf = async (transferId: string) => {
    const received = await eventually(() => smtp.received.find((mail) => mail.mail.subject?.includes(transferId)), "the email copy");
    const header = rawHeader(received.mail, "List-Unsubscribe");
    expect(rawHeader(received.mail, "List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
    return header!.replace(/^<|>$/g, "");
  };
  const oneClick = (link: string) =>
    fetch(link, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "mail-client/2" }, body: "List-Unsubscribe=One-Click" });
  const emailSuppressions = async () =>
    (await graphql(server.url, SuppressionsDocument, {}, token)).body.data!.suppressions.filter((suppression) => suppression.kind === "EMAIL");

  beforeAll(async () => {
    smtp = await startSmtp();
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { SMTP_URL: smtp.url, CPAAS_API_URL: cpaas.url, SIGNING_KEY: TEST_SIGNING_KEY } });
    token = await tokenFor(uniqueTenant("unsubscribe"));
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
    await smtp?.close();
  });

  describe("succeeding", () => {
    it("opening the link only asks; the one-click POST suppresses the address for the tenant, once", async () => {
      const transfer = await create("ex-client@example.com");
      const link = await unsubscribeLinkOf(transfer.id);
      expect(new URL(link).pathname).toMatch(/^\/u\//);

      const page = await fetch(link);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('method="post"');
      expect(await emailSuppressions()).toEqual([]);

      const done = await oneClick(link);
      expect(done.status).toBe(200);
      expect(await done.text()).toContain("ex-client@example.com");
      expect(await emailSuppressions()).toEqual([expect.objectContaining({ address: "ex-client@example.com", reason: "OPT_OUT", createdBy: "receipt" })]);
      const emailMessage = transfer.messages.find((message) => message.channel === "EMAIL")!;
      const optOuts = () => history(server, token, transfer.id).then((events) => events.filter((event) => event.event === "OPT_OUT"));
      const [optOut] = await optOuts();
      expect(optOut).toMatchObject({ messageId: emailMessage.id, channel: "EMAIL", source: "unsubscribe" });
      expect(optOut!.metadata).toMatchObject({ via: "one-click", user_agent: "mail-client/2" });

      // A mail client may POST again: nothing changes.
      expect((await oneClick(link)).status).toBe(200);
      expect(await optOuts()).toHaveLength(1);
    });

    it("later email copies to that address are SUPPRESSED, while the phone still gets its notification", async () => {
      const first = await create("gone@example.com");
      await oneClick(await unsubscribeLinkOf(first.id));
      const second = await create("gone@example.com");
      const settled = await eventually(async () => {
        const transfer = (await graphql(server.url, GetTransferDocument, { id: second.id }, token)).body.data!.transfer!;
        const tried = transfer.messages.every((message) => message.deliveryAttempts.length > 0);
        // The RCS message's first attempt may be a retry's; it is handed over once the provider names it.
        return tried && transfer.messages.some((message) => message.channel === "RCS" && message.providerMessageId) ? transfer : undefined;
      }, "both messages to be tried, the RCS one handed to the provider");
      expect(settled.messages.map((message) => [message.channel, message.status])).toEqual([
        ["RCS", "QUEUED"],
        ["EMAIL", "SUPPRESSED"],
      ]);
    });
  });

  describe("failing", () => {
    it("a tampered link, or a download link used as one, is 403 and suppresses nothing", async () => {
      const transfer = await create("keep-me@example.com");
      const link = await unsubscribeLinkOf(transfer.id);
      const tampered = `${link.slice(0, -4)}AAAA`;
      const downloadToken = (await legacyLink(server.url, transfer.id)).searchParams.get("tok")!;
      const borrowed = new URL(link);
      borrowed.searchParams.set("tok", downloadToken);
      for (const bad of [tampered, borrowed.toString()]) {
        expect((await fetch(bad)).status).toBe(403);
        expect((await oneClick(bad)).status).toBe(403);
      }
      expect((await emailSuppressions()).map((suppression) => suppression.address)).not.toContain("keep-me@example.com");
    });
  });
});
