import { createServer, type AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createEmailAdapter } from "../../../src/delivery/email.adapter.js";
import { sendRequest } from "../../helpers/send-request.js";
import { rawHeader, startSmtp } from "../../helpers/smtp.js";

const silent = pino({ level: "silent" });

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

describe("email adapter over SMTP (nodemailer → a real local smtp-server)", () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>> | undefined;
  afterEach(async () => {
    await smtp?.close();
    smtp = undefined;
  });

  it("delivers one message to the recipient carrying the transfer id, the download link, the expiry and the audit trail", async () => {
    smtp = await startSmtp();
    const request = sendRequest("EMAIL");
    const adapter = createEmailAdapter({ smtpUrl: smtp.url, from: "Ackline <notify@ackline.example.test>", log: silent });
    expect(adapter.provider).toBe("smtp");

    const outcome = await adapter.send(request);

    expect(outcome).toEqual({ kind: "accepted", providerMessageId: `<${request.message.clientMessageId}@ackline>`, sent: true });
    expect(smtp.received).toHaveLength(1);
    const { from, to, mail } = smtp.received[0]!;
    expect(from).toBe("notify@ackline.example.test");
    expect(to).toEqual(["grace@example.test"]);
    expect(mail.messageId).toBe(`<${request.message.clientMessageId}@ackline>`);
    // Transfer id: in the subject and in its own header.
    expect(mail.subject).toContain(request.transfer.id);
    expect(mail.headers.get("x-ackline-transfer-id")).toBe(request.transfer.id);
    // The download link, the expiry, and the audit trail in the body.
    const text = mail.text ?? "";
    expect(text).toContain(`Download: ${request.link}`);
    expect(text).toContain(`expires at ${request.transfer.expiresAt.toISOString()}`);
    expect(text).toContain("-- Audit trail --");
    expect(text).toContain(`Transfer: ${request.transfer.id}`);
    expect(text).toContain(`Message: ${request.message.id}`);
    expect(text).toContain(`Created: ${request.transfer.createdAt.toISOString()}`);
    expect(text).toContain("Ada Lovelace sent you analytical-engine-notes.pdf");
  });

  it("carries the one-click unsubscribe link (RFC 8058 headers and a line in the text) when it has one", async () => {
    smtp = await startSmtp();
    const adapter = createEmailAdapter({ smtpUrl: smtp.url, from: "Ackline <notify@ackline.example.test>", log: silent });
    const unsubscribeUrl = "https://ackline.example.test/u/token-123";
    await adapter.send({ ...sendRequest("EMAIL"), unsubscribeUrl });
    await adapter.send(sendRequest("EMAIL"));
    const [withLink, withoutLink] = smtp.received.map((received) => received.mail);
    expect(rawHeader(withLink!, "List-Unsubscribe")).toBe(`<${unsubscribeUrl}>`);
    expect(rawHeader(withLink!, "List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
    expect(withLink!.text).toContain(`Stop these notification emails: ${unsubscribeUrl}`);
    expect(rawHeader(withoutLink!, "List-Unsubscribe")).toBeUndefined();
  });

  it("a 5xx rejection (550 mailbox unavailable) is permanent", async () => {
    smtp = await startSmtp({ onRcptTo: (_address, _session, callback) => callback(smtpError("Mailbox unavailable", 550)) });
    const outcome = await createEmailAdapter({ smtpUrl: smtp.url, from: "notify@ackline.example.test", log: silent }).send(sendRequest("EMAIL"));
    expect(outcome).toMatchObject({ kind: "permanent", error: expect.stringContaining("550") as string });
    expect(smtp.received).toHaveLength(0);
  });

  it("a 4xx answer (451 local error, try again later) is transient", async () => {
    smtp = await startSmtp({
      onData: (stream, _session, callback) => {
        stream.resume();
        stream.on("end", () => callback(smtpError("Requested action aborted: local error in processing", 451)));
      },
    });
    const outcome = await createEmailAdapter({ smtpUrl: smtp.url, from: "notify@ackline.example.test", log: silent }).send(sendRequest("EMAIL"));
    expect(outcome).toMatchObject({ kind: "transient", error: expect.stringContaining("451") as string });
  });

  it("a refused connection is transient", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const outcome = await createEmailAdapter({ smtpUrl: `smtp://127.0.0.1:${port}`, from: "notify@ackline.example.test", log: silent }).send(sendRequest("EMAIL"));
    expect(outcome).toMatchObject({ kind: "transient", error: expect.stringContaining("SMTP") as string });
  });

  /** A relay whose acceptance of DATA reads `250 <reply>`. */
  const relayAnswering = (reply: string) =>
    startSmtp({
      onData: (stream, _session, callback) => {
        stream.resume();
        stream.on("end", () => callback(null, reply));
      },
    });

  it.each([
    ["SendGrid", "Ok: queued as nhIMmON9SFOPcT0ii4nt2A", "nhIMmON9SFOPcT0ii4nt2A"],
    ["SES", "Ok 01000154dc729264-93fdd7ea-f039-43d6-91ed-653e8547867c-000000", "01000154dc729264-93fdd7ea-f039-43d6-91ed-653e8547867c-000000"],
  ])("records the id %s's relay names in its acceptance, the one its event webhooks report", async (_relay, reply, id) => {
    smtp = await relayAnswering(reply);
    const outcome = await createEmailAdapter({ smtpUrl: smtp.url, from: "notify@ackline.example.test", log: silent }).send(sendRequest("EMAIL"));
    expect(outcome).toEqual({ kind: "accepted", providerMessageId: id, sent: true });
  });

  it.each([
    ["Mailgun", "Great success"],
    ["Postfix (a queue id it reuses)", "2.0.0 Ok: queued as 4Zx3k2D9FA"],
  ])("records the Message-ID it set when the relay (%s) names no id of that kind", async (_relay, reply) => {
    smtp = await relayAnswering(reply);
    const request = sendRequest("EMAIL");
    const outcome = await createEmailAdapter({ smtpUrl: smtp.url, from: "notify@ackline.example.test", log: silent }).send(request);
    expect(outcome).toEqual({ kind: "accepted", providerMessageId: `<${request.message.clientMessageId}@ackline>`, sent: true });
  });
});
