import { describe, expect, it, vi } from "vitest";
import { confirmSnsSubscription } from "../../../src/webhooks/follow-ups.js";
import { SnsCertificates, snsUrl } from "../../../src/webhooks/sns-certificates.js";
import { asyncRejection } from "../../helpers/parse-assertions.js";
import { createSnsSigner, TEST_SNS_CERTIFICATE_URL } from "../../helpers/sns.js";

const signer = await createSnsSigner();

describe("SNS URLs", () => {
  it.each([
    ["https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", true],
    ["https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem", true],
    ["https://sns.us-gov-west-1.amazonaws.com/?Action=ConfirmSubscription", true],
    ["http://sns.us-east-1.amazonaws.com/x.pem", false],
    ["https://sns.us-east-1.amazonaws.com.evil.example/x.pem", false],
    ["https://sns.us-east-1.amazonaws.com@evil.example/x.pem", false],
    ["https://user@sns.us-east-1.amazonaws.com/x.pem", false],
    ["https://sns.us-east-1.amazonaws.com:444/x.pem", false],
    ["https://sns.amazonaws.com/x.pem", false],
    ["https://sqs.us-east-1.amazonaws.com/x.pem", false],
    ["https://sns.us-east-1.amazonaws.com/x.pem#frag", false],
    ["not a url", false],
  ])("%s → %s", (url, accepted) => {
    expect(snsUrl(url) !== undefined).toBe(accepted);
  });
});

describe("SnsCertificates", () => {
  const pemResponse = () => new Response(signer.certificatePem, { status: 200 });

  it("downloads a certificate once, without following redirects, and keeps it", async () => {
    const fetch = vi.fn(() => Promise.resolve(pemResponse()));
    const certificates = new SnsCertificates(fetch);
    const [first, second] = await Promise.all([certificates.publicKey(TEST_SNS_CERTIFICATE_URL), certificates.publicKey(TEST_SNS_CERTIFICATE_URL)]);
    await certificates.publicKey(TEST_SNS_CERTIFICATE_URL);
    expect(first.equals(second)).toBe(true);
    expect(first.asymmetricKeyType).toBe("rsa");
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch).toHaveBeenCalledWith(TEST_SNS_CERTIFICATE_URL, expect.objectContaining({ redirect: "error" }));
  });

  it("seeded certificates are never downloaded; a seed for a URL that is not SNS's is refused", async () => {
    const fetch = vi.fn(() => Promise.resolve(pemResponse()));
    const certificates = new SnsCertificates(fetch);
    certificates.seed(signer.certificates);
    await certificates.publicKey(TEST_SNS_CERTIFICATE_URL);
    expect(fetch).not.toHaveBeenCalled();
    expect(() => certificates.seed({ "https://evil.example/cert.pem": signer.certificatePem })).toThrow(/SNS_CERTIFICATES/);
  });

  it("refuses a URL that is not an SNS certificate's without any request", async () => {
    const fetch = vi.fn(() => Promise.resolve(pemResponse()));
    const refused = await asyncRejection(new SnsCertificates(fetch).publicKey("https://evil.example/SimpleNotificationService-abc.pem"));
    expect(refused.statusCode).toBe(401);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("SNS unreachable or failing is 503 (SNS retries) and is tried again next time; a missing or bogus certificate is 401", async () => {
    const fetch = vi
      .fn<(url: string, init: RequestInit) => Promise<Response>>()
      .mockRejectedValueOnce(new TypeError("fetch failed"))
      .mockResolvedValueOnce(new Response("busy", { status: 503 }))
      .mockResolvedValueOnce(pemResponse());
    const certificates = new SnsCertificates(fetch);
    expect((await asyncRejection(certificates.publicKey(TEST_SNS_CERTIFICATE_URL))).statusCode).toBe(503);
    expect((await asyncRejection(certificates.publicKey(TEST_SNS_CERTIFICATE_URL))).statusCode).toBe(503);
    expect((await certificates.publicKey(TEST_SNS_CERTIFICATE_URL)).asymmetricKeyType).toBe("rsa");

    const missing = new SnsCertificates(() => Promise.resolve(new Response("no", { status: 404 })));
    expect((await asyncRejection(missing.publicKey(TEST_SNS_CERTIFICATE_URL))).statusCode).toBe(401);
    const bogus = new SnsCertificates(() => Promise.resolve(new Response("<html>not a certificate</html>", { status: 200 })));
    expect((await asyncRejection(bogus.publicKey(TEST_SNS_CERTIFICATE_URL))).statusCode).toBe(401);
  });
});

describe("confirmSnsSubscription", () => {
  const subscribeUrl = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3At&Token=abc";

  it("GETs the SubscribeURL, without following redirects", async () => {
    const fetch = vi.fn(() => Promise.resolve(new Response("<ConfirmSubscriptionResponse/>", { status: 200 })));
    await confirmSnsSubscription(subscribeUrl, fetch);
    expect(fetch).toHaveBeenCalledWith(subscribeUrl, expect.objectContaining({ redirect: "error" }));
  });

  it("never visits a URL off SNS's hosts, and fails when SNS does not confirm", async () => {
    const fetch = vi.fn(() => Promise.resolve(new Response("", { status: 200 })));
    await expect(confirmSnsSubscription("https://evil.example/?Action=ConfirmSubscription", fetch)).rejects.toThrow(/not an SNS URL/);
    expect(fetch).not.toHaveBeenCalled();
    await expect(confirmSnsSubscription(subscribeUrl, () => Promise.resolve(new Response("", { status: 403 })))).rejects.toThrow(/403/);
  });
});
