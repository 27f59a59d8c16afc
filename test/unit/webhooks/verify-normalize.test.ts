import { describe, expect, it } from "vitest";
import { WebhookRejection } from "../../../src/webhooks/provider.js";
import { webhookProviders } from "../../../src/webhooks/providers/index.js";
import { snsCertificates } from "../../../src/webhooks/sns-certificates.js";
import { providerFixtures } from "../../helpers/signed-deliveries.js";
import { createSnsSigner } from "../../helpers/sns.js";

const signer = await createSnsSigner();
snsCertificates.seed(signer.certificates);
const url = "https://ackline.example.test/webhooks/any/whs_source";

async function refusal(run: () => unknown): Promise<WebhookRejection> {
  try {
    await run();
  } catch (error) {
    if (error instanceof WebhookRejection) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("every door is verify, then normalize", () => {
  it.each(providerFixtures(signer).map((fixture) => [fixture.provider, fixture] as const))("%s: parse is verify then normalize; normalize needs no secret", async (name, fixture) => {
    const provider = webhookProviders.get(name)!;
    const secrets = fixture.secrets("split");
    const { body, headers } = await fixture.sign(url, secrets);
    const request = { headers, url };
    const now = new Date();
    const rawBody = Buffer.from(body);

    const parsed = await provider.parse(rawBody, request, provider.sourceSecrets.parse(secrets), now);
    const { replayToken: _token, confirmSubscription: _confirm, ...normalizedPart } = parsed;
    expect(provider.normalize(rawBody, request, now)).toEqual(normalizedPart);
    expect(parsed.events.length + parsed.templateUpdates.length).toBeGreaterThan(0);

    // What a replay keeps of the request is enough: the URL and the headers the door names.
    const kept = Object.fromEntries((provider.normalizedHeaders ?? []).map((header) => [header, headers[header]!]));
    expect(provider.normalize(rawBody, { url, headers: kept }, now)).toEqual(normalizedPart);

    // Someone else's secrets: verify refuses, and parse with it.
    const others = provider.sourceSecrets.parse(fixture.secrets("someone else"));
    expect((await refusal(() => provider.verify(rawBody, request, others, now))).statusCode).toBe(401);
    expect((await refusal(() => provider.parse(rawBody, request, others, now))).statusCode).toBe(401);
  });

  it("normalize refuses what cannot be read (400), whoever signed it", () => {
    for (const provider of webhookProviders.values()) {
      expect(() => provider.normalize(Buffer.from("{not json"), { headers: {}, url }, new Date())).toThrow(WebhookRejection);
    }
  });
});
