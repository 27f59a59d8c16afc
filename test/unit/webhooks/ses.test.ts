import https from "node:https";
import { PassThrough } from "node:stream";
import MessageValidator from "sns-validator";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ses } from "../../../src/webhooks/providers/ses.js";
import { snsCertificates } from "../../../src/webhooks/sns-certificates.js";
import { asyncRejection, onlyEvent, webhookRequest } from "../../helpers/parse-assertions.js";
import { TEST_SES_TOPIC_ARN } from "../../helpers/server.js";
import { createSnsSigner, signSns, snsNotification, snsSubscriptionConfirmation, TEST_SNS_CERTIFICATE_URL, type SnsEnvelope } from "../../helpers/sns.js";

const signer = await createSnsSigner();
snsCertificates.seed(signer.certificates);
const secrets = { sesTopicArn: TEST_SES_TOPIC_ARN };
const now = new Date();

/** SES's documented event-publishing records (Amazon SES Developer Guide, "Examples of event data … to Amazon SNS"), trimmed. */
const mail = {
  timestamp: "2016-10-19T23:20:52.240Z",
  source: "sender@example.com",
  sourceArn: "arn:aws:ses:us-east-1:123456789012:identity/sender@example.com",
  sendingAccountId: "123456789012",
  messageId: "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
  destination: ["recipient@example.com"],
  headersTruncated: false,
  commonHeaders: { from: ["sender@example.com"], to: ["recipient@example.com"], messageId: "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000", subject: "Message sent from Amazon SES" },
};
const records = {
  Send: { eventType: "Send", mail, send: {} },
  Delivery: {
    eventType: "Delivery",
    mail,
    delivery: { timestamp: "2016-10-19T23:21:04.133Z", processingTimeMillis: 11893, recipients: ["recipient@example.com"], smtpResponse: "250 2.6.0 Message received", reportingMTA: "mta.example.com" },
  },
  Open: { eventType: "Open", mail, open: { ipAddress: "192.0.2.1", timestamp: "2017-08-09T22:00:19.652Z", userAgent: "Mozilla/5.0 (iPhone)" } },
  Click: { eventType: "Click", mail, click: { ipAddress: "192.0.2.1", link: "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html", timestamp: "2017-08-09T23:51:25.570Z", userAgent: "Mozilla/5.0" } },
  Bounce: {
    eventType: "Bounce",
    mail,
    bounce: {
      bounceType: "Permanent",
      bounceSubType: "General",
      bouncedRecipients: [{ emailAddress: "recipient@example.com", action: "failed", status: "5.1.1", diagnosticCode: "smtp; 550 5.1.1 user unknown" }],
      timestamp: "2017-08-05T00:41:02.669Z",
      feedbackId: "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
      reportingMTA: "dsn; mta.example.com",
    },
  },
  Complaint: {
    eventType: "Complaint",
    mail,
    complaint: { complainedRecipients: [{ emailAddress: "recipient@example.com" }], timestamp: "2017-08-05T00:41:02.669Z", feedbackId: "01000157c44f053b", complaintFeedbackType: "abuse" },
  },
  Reject: { eventType: "Reject", mail, reject: { reason: "Bad content" } },
  "Rendering Failure": { eventType: "Rendering Failure", mail, failure: { errorMessage: "Attribute 'attributeName' is not present in the rendering data.", templateName: "MyTemplate" } },
  DeliveryDelay: {
    eventType: "DeliveryDelay",
    mail,
    deliveryDelay: {
      timestamp: "2020-06-16T00:25:40.095Z",
      delayType: "TransientCommunicationFailure",
      expirationTime: "2020-06-16T00:25:40.914Z",
      delayedRecipients: [{ emailAddress: "recipient@example.com", status: "4.4.1", diagnosticCode: "smtp; 421 4.4.1 Unable to connect to remote host" }],
    },
  },
  Subscription: {
    eventType: "Subscription",
    mail,
    subscription: {
      contactList: "ContactListName",
      timestamp: "2022-01-12T01:00:17.910Z",
      source: "UnsubscribeHeader",
      newTopicPreferences: { unsubscribeAll: true, topicSubscriptionStatus: [{ topicName: "ExampleTopicName", subscriptionStatus: "OptOut" }] },
      oldTopicPreferences: { unsubscribeAll: false, topicSubscriptionStatus: [{ topicName: "ExampleTopicName", subscriptionStatus: "OptOut" }] },
    },
  },
};

/** The identity-notification shape (`notificationType`), SES's documented bounce example: three destinations, one bounced. */
const identityBounce = {
  notificationType: "Bounce",
  bounce: {
    bounceType: "Permanent",
    reportingMTA: "dns; email.example.com",
    bouncedRecipients: [{ emailAddress: "jane@example.com", status: "5.1.1", action: "failed", diagnosticCode: "smtp; 550 5.1.1 <jane@example.com>... User unknown" }],
    bounceSubType: "General",
    timestamp: "2016-01-27T14:59:44.101Z",
    feedbackId: "00000138111222aa-44455566-cccc-cccc-cccc-ddddaaaa068a-000000",
  },
  mail: {
    timestamp: "2016-01-27T14:59:38.237Z",
    source: "john@example.com",
    messageId: "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000",
    destination: ["jane@example.com", "mary@example.com", "richard@example.com"],
    headers: [{ name: "Message-ID", value: "custom-message-ID" }],
    commonHeaders: { from: ["John Doe <john@example.com>"], to: ["Jane Doe <jane@example.com>"], messageId: "custom-message-ID", subject: "Hello" },
  },
};

function parse(envelope: SnsEnvelope, options: { headers?: Record<string, string>; body?: string; topicArn?: string | null } = {}) {
  const headers = options.headers ?? { "x-amz-sns-message-type": envelope.Type!, "x-amz-sns-message-id": envelope.MessageId! };
  const keys = options.topicArn === null ? {} : { sesTopicArn: options.topicArn ?? secrets.sesTopicArn };
  return ses.parse(Buffer.from(options.body ?? JSON.stringify(envelope)), webhookRequest(headers), keys, now);
}
const refusal = (envelope: SnsEnvelope, options: Parameters<typeof parse>[1] = {}) => asyncRejection(parse(envelope, options));

/** AWS's own validator, reading the certificate from its cache of one: https.get answers with the test certificate. */
function awsValidates(envelope: SnsEnvelope): Promise<boolean> {
  vi.spyOn(https, "get").mockImplementation(((url: string, callback: (response: PassThrough & { statusCode: number }) => void) => {
    expect(url).toBe(TEST_SNS_CERTIFICATE_URL);
    const response = Object.assign(new PassThrough(), { statusCode: 200 });
    callback(response);
    response.end(signer.certificatePem);
    return new PassThrough();
  }) as unknown as typeof https.get);
  return new Promise((resolve) => new MessageValidator().validate(envelope, (error) => resolve(!error)));
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe("ses (SNS) signature", () => {
  it.each(["1", "2"] as const)("SignatureVersion %s (RSA-SHA%s) is accepted, and AWS's sns-validator agrees with the signing", async (version) => {
    const envelope = snsNotification(signer, records.Delivery, { version });
    expect(onlyEvent(await parse(envelope)).event).toBe("DELIVERED");
    expect(await awsValidates(envelope)).toBe(true);
    expect(await awsValidates({ ...envelope, Message: `${envelope.Message} ` })).toBe(false);
  });

  it("a SubscriptionConfirmation's signing (SubscribeURL and Token instead of Subject) agrees with AWS's validator", async () => {
    const confirmation = snsSubscriptionConfirmation(signer);
    expect((await parse(confirmation)).confirmSubscription).toBe(confirmation.SubscribeURL);
    expect(await awsValidates(confirmation)).toBe(true);
  });

  it("refuses (401) a changed field, another key's signature, an unknown SignatureVersion", async () => {
    const envelope = snsNotification(signer, records.Delivery);
    expect((await refusal({ ...envelope, Message: JSON.stringify(records.Bounce) })).statusCode).toBe(401);
    expect((await refusal({ ...envelope, Subject: "Hi" })).statusCode).toBe(401);
    expect((await refusal({ ...envelope, Timestamp: new Date(now.getTime() - 1000).toISOString() })).statusCode).toBe(401);
    const stranger = await createSnsSigner();
    expect((await refusal(snsNotification(stranger, records.Delivery))).statusCode).toBe(401);
    expect((await refusal({ ...envelope, SignatureVersion: "3" })).message).toContain("SignatureVersion");
    expect((await refusal({ ...envelope, Signature: "bm90IGEgc2lnbmF0dXJl" })).statusCode).toBe(401);
  });

  it("never fetches a certificate from anywhere but an https SNS host, a .pem path (401 without a request)", async () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    vi.stubGlobal("fetch", fetch);
    for (const url of [
      "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
      "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-x.pem",
      "https://evil.example/sns.us-east-1.amazonaws.com/x.pem",
      "https://sns.us-east-1.amazonaws.com@evil.example/x.pem",
      "https://sns.us-east-1.amazonaws.com:8443/x.pem",
      "https://sns.us-east-1.amazonaws.com/x.pem?redirect=https://evil.example/x.pem",
      "https://sns.us-east-1.amazonaws.com/x.txt",
      "https://s3.us-east-1.amazonaws.com/x.pem",
    ]) {
      const refused = await refusal(snsNotification(signer, records.Delivery, { certificateUrl: url }));
      expect(refused.statusCode, url).toBe(401);
      expect(refused.message, url).toContain("SigningCertURL");
    }
    expect(fetch).not.toHaveBeenCalled();
  });

  it("refuses (401) another topic before any certificate download, and everything when no topic is configured", async () => {
    const fetch = vi.fn<typeof globalThis.fetch>();
    vi.stubGlobal("fetch", fetch);
    const otherTopic = "arn:aws:sns:us-east-1:123456789012:someone-else";
    const unseeded = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ffffffffffffffffffffffffffffffff.pem";
    expect(await refusal(snsNotification(signer, records.Delivery, { topicArn: otherTopic, certificateUrl: unseeded }))).toMatchObject({
      statusCode: 401,
      message: expect.stringContaining(otherTopic) as string,
    });
    expect(await refusal(snsSubscriptionConfirmation(signer, { topicArn: otherTopic }))).toMatchObject({ statusCode: 401 });
    expect(fetch).not.toHaveBeenCalled();
    expect(await refusal(snsNotification(signer, records.Delivery), { topicArn: null })).toMatchObject({ statusCode: 401, message: expect.stringContaining("not configured") as string });
  });

  it("SNS's signed Timestamp may be up to a day old and 5 minutes ahead", async () => {
    const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 60 * 60 * 1000);
    expect((await parse(snsNotification(signer, records.Delivery, { timestamp: hoursAgo(23) }))).events).toHaveLength(1);
    expect((await refusal(snsNotification(signer, records.Delivery, { timestamp: hoursAgo(25) }))).statusCode).toBe(401);
    expect((await refusal(snsNotification(signer, records.Delivery, { timestamp: hoursAgo(-0.2) }))).statusCode).toBe(401);
  });

  it("refuses (400) a body that is not an SNS message, or whose x-amz-sns-message-type disagrees with it", async () => {
    const envelope = snsNotification(signer, records.Delivery);
    expect((await refusal(envelope, { body: "{" })).statusCode).toBe(400);
    expect((await refusal({ ...envelope, Type: "Advert" })).statusCode).toBe(400);
    expect((await refusal(envelope, { headers: { "x-amz-sns-message-type": "SubscriptionConfirmation" } })).statusCode).toBe(400);
  });
});

describe("ses normalization", () => {
  it("normalizes the documented Delivery record completely", async () => {
    const envelope = snsNotification(signer, records.Delivery);
    expect(onlyEvent(await parse(envelope))).toEqual({
      event: "DELIVERED",
      occurredAt: new Date("2016-10-19T23:21:04.133Z"),
      channel: "EMAIL",
      correlation: { providerMessageId: mail.messageId },
      dedupeKey: `ses:${envelope.MessageId}:recipient@example.com`,
      metadata: { event_type: "Delivery", recipient: "recipient@example.com", smtp_response: "250 2.6.0 Message received" },
      raw: records.Delivery,
    });
  });

  it.each([
    ["Send", "SENT", mail.timestamp],
    ["Delivery", "DELIVERED", "2016-10-19T23:21:04.133Z"],
    ["DeliveryDelay", "QUEUED", "2020-06-16T00:25:40.095Z"],
    ["Open", "READ", "2017-08-09T22:00:19.652Z"],
    ["Click", "ACTION", "2017-08-09T23:51:25.570Z"],
    ["Bounce", "FAILED", "2017-08-05T00:41:02.669Z"],
    ["Complaint", "COMPLAINT", "2017-08-05T00:41:02.669Z"],
    ["Reject", "FAILED", mail.timestamp],
    ["Rendering Failure", "FAILED", mail.timestamp],
    ["Subscription", "OPT_OUT", "2022-01-12T01:00:17.910Z"],
  ] as const)("%s → %s, at the event's own time", async (type, expected, at) => {
    const event = onlyEvent(await parse(snsNotification(signer, records[type])));
    expect([event.event, event.occurredAt.toISOString(), event.metadata.event_type]).toEqual([expected, at, type]);
  });

  it("a permanent bounce carries bounce_type permanent (the address is suppressed); a transient one does not suppress", async () => {
    expect(onlyEvent(await parse(snsNotification(signer, records.Bounce))).metadata).toMatchObject({ bounce_type: "permanent", bounce_sub_type: "General" });
    const transient = { ...records.Bounce, bounce: { ...records.Bounce.bounce, bounceType: "Transient", bounceSubType: "MailboxFull" } };
    expect(onlyEvent(await parse(snsNotification(signer, transient))).metadata.bounce_type).toBe("transient");
  });

  it("reads identity notifications (notificationType) too: one event per bounced recipient, not per destination", async () => {
    const envelope = snsNotification(signer, identityBounce);
    const event = onlyEvent(await parse(envelope));
    expect(event).toMatchObject({ event: "FAILED", correlation: { providerMessageId: identityBounce.mail.messageId }, metadata: { recipient: "jane@example.com", bounce_type: "permanent" } });
    const twoBounced = { ...identityBounce, bounce: { ...identityBounce.bounce, bouncedRecipients: [{ emailAddress: "jane@example.com" }, { emailAddress: "richard@example.com" }] } };
    const both = (await parse(snsNotification(signer, twoBounced))).events;
    expect(both.map((each) => [each.metadata.recipient, each.raw])).toEqual([
      ["jane@example.com", twoBounced],
      ["richard@example.com", twoBounced],
    ]);
    expect(new Set(both.map((each) => each.dedupeKey)).size).toBe(2);
  });

  it("correlates to Ackline's own message when the Message-ID it set comes back in commonHeaders", async () => {
    const own = { ...records.Delivery, mail: { ...mail, commonHeaders: { ...mail.commonHeaders, messageId: "<msg_AbCdEf0123456789@ackline>" } } };
    expect(onlyEvent(await parse(snsNotification(signer, own))).correlation).toEqual({ providerMessageId: mail.messageId, messageId: "msg_AbCdEf0123456789" });
  });

  it("a subscription event that opts back in stores nothing; SES's set-up notices store nothing", async () => {
    const optIn = { ...records.Subscription, subscription: { ...records.Subscription.subscription, newTopicPreferences: { unsubscribeAll: false, topicSubscriptionStatus: [{ topicName: "t", subscriptionStatus: "OptIn" }] } } };
    expect((await parse(snsNotification(signer, optIn))).events).toEqual([]);
    expect((await parse(snsNotification(signer, "Successfully validated SNS topic for Amazon SES event publishing."))).events).toEqual([]);
    const succeeded = { notificationType: "AmazonSnsSubscriptionSucceeded", message: "You have successfully subscribed your Amazon SNS topic to receive 'Bounce' notifications from Amazon SES." };
    expect((await parse(snsNotification(signer, succeeded))).events).toEqual([]);
  });

  it("refuses (400) an SES event it does not know, or one without its detail object", async () => {
    expect(await refusal(snsNotification(signer, { notificationType: "Received", mail }))).toMatchObject({ statusCode: 400, message: expect.stringContaining("Received") as string });
    expect(await refusal(snsNotification(signer, { eventType: "Delivery", mail }))).toMatchObject({ statusCode: 400, message: expect.stringContaining("delivery") as string });
    expect((await refusal(snsNotification(signer, "a plain string"))).statusCode).toBe(400);
  });
});

describe("ses subscription handshake", () => {
  it("a SubscriptionConfirmation for the topic yields its SubscribeURL to visit and no events; an UnsubscribeConfirmation nothing", async () => {
    const confirmation = snsSubscriptionConfirmation(signer);
    expect(await parse(confirmation)).toEqual({ events: [], templateUpdates: [], confirmSubscription: confirmation.SubscribeURL });
    const unsubscribed = signSns(signer, { ...snsSubscriptionConfirmation(signer), Type: "UnsubscribeConfirmation" });
    expect(await parse(unsubscribed)).toEqual({ events: [], templateUpdates: [] });
  });

  it("refuses (400) a signed SubscribeURL that is not SNS's ConfirmSubscription for this topic, in its region", async () => {
    const query = `Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TEST_SES_TOPIC_ARN)}&Token=abc`;
    for (const subscribeUrl of [
      `https://evil.example/?${query}`,
      `http://sns.us-east-1.amazonaws.com/?${query}`,
      `https://sns.eu-west-1.amazonaws.com/?${query}`,
      `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&TopicArn=${encodeURIComponent(TEST_SES_TOPIC_ARN)}`,
      `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent("arn:aws:sns:us-east-1:123456789012:other")}&Token=abc`,
    ]) {
      expect((await refusal(snsSubscriptionConfirmation(signer, { subscribeUrl }))).statusCode, subscribeUrl).toBe(400);
    }
  });
});
