import { randomBytes, randomUUID } from "node:crypto";
import { expect } from "vitest";
import { CreateTransferDocument } from "../generated/graphql.js";
import { graphql } from "./graphql.js";
import { startSmtp } from "./smtp.js";
import { getTransfer } from "./transfers.js";
import { eventually } from "./wait.js";

/** The relays an email copy can go through here, told apart by the recipient's address (`<relay>-…@example.com`). */
export type Relay = "sendgrid" | "ses" | "mailgun";

/** How each relay accepts a message: SendGrid's and SES's name their own id (as their events will), Mailgun's names none. */
function acceptance(relay: string): string {
  if (relay === "sendgrid") return `Ok: queued as ${randomBytes(16).toString("base64url")}`;
  if (relay === "ses") return `Ok ${randomBytes(8).toString("hex")}-${randomUUID()}-000000`;
  return "Great success";
}

/** One local SMTP server answering as SendGrid's, SES's or Mailgun's relay would, by recipient. */
export function startEmailRelays() {
  return startSmtp({
    onData(stream, session, callback) {
      const relay = session.envelope.rcptTo[0]?.address.split("-")[0] ?? "";
      stream.on("end", () => callback(null, acceptance(relay)));
      stream.resume();
    },
  });
}

let sent = 0;

/** An email-only transfer sent through `relay`: its email message, once the relay's acceptance is recorded. */
export async function emailSentThrough(server: { url: string }, token: string, relay: Relay) {
  const email = `${relay}-${sent++}-${randomBytes(3).toString("hex")}@example.com`;
  const input = { recipient: { email }, fileName: "report.pdf", fileSizeBytes: 2048, senderName: "Acme" };
  const created = await graphql(server.url, CreateTransferDocument, { input }, token);
  expect(created.body.errors).toBeUndefined();
  const transfer = created.body.data!.createTransfer;
  const message = await eventually(async () => {
    const accepted = (await getTransfer(server, token, transfer.id))?.messages.find((each) => each.channel === "EMAIL" && each.providerMessageId);
    return accepted && { id: accepted.id, providerMessageId: accepted.providerMessageId! };
  }, `the email to ${email} accepted by the relay`);
  return { transfer, email, message };
}
