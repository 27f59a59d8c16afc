import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateWebhookSourceDocument,
  ReceiptEventsDocument,
  RotateWebhookSourceSecretsDocument,
  SetWebhookSourceEnabledDocument,
  WebhookSourcesDocument,
} from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { errorCodes, graphql, postGraphQL } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { hasPostgres } from "../helpers/services.js";
import { providerFixtures, type ProviderFixture } from "../helpers/signed-deliveries.js";
import { createSnsSigner } from "../helpers/sns.js";
import { getTransfer, history, sentTransfer } from "../helpers/transfers.js";
import { genericSignature, postTo, type PostResult } from "../helpers/webhooks.js";

const snsSigner = await createSnsSigner();
const fixtures = providerFixtures(snsSigner);
const fixture = (provider: string) => fixtures.find((candidate) => candidate.provider === provider)!;

async function createSource(server: TestServer, token: string, provider: string, secrets: Record<string, unknown>, name?: string) {
  const result = await graphql(server.url, CreateWebhookSourceDocument, { input: { provider, secrets, name } }, token);
  expect(result.body.errors).toBeUndefined();
  return result.body.data!.createWebhookSource;
}

async function deliver(url: string, fixture: ProviderFixture, secrets: Record<string, string>): Promise<PostResult> {
  const { body, headers } = await fixture.sign(url, secrets);
  return postTo(url, body, headers);
}

function postGenericTo(url: string, payload: Record<string, unknown>, secret: string): Promise<PostResult> {
  const body = JSON.stringify(payload);
  return postTo(url, body, { "x-webhook-signature": genericSignature(body, secret) });
}

describe("webhook sources — succeeding", () => {
  let server: TestServer;
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let acme: string;

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, SNS_CERTIFICATES: JSON.stringify(snsSigner.certificates) } });
    acme = await tokenFor("acme");
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
  });

  it("creates a source with an unguessable URL under the public base, lists it, and never returns or stores its secrets in clear", async () => {
    const secrets = fixture("twilio").secrets("create");
    const source = await createSource(server, acme, "twilio", secrets, "Twilio production");
    expect(source).toMatchObject({ provider: "twilio", name: "Twilio production", enabled: true, secretsRotatedAt: null });
    expect(source.id).toMatch(/^whs_[A-Za-z0-9_-]{22}$/);
    expect(source.url).toBe(`${server.url}/webhooks/twilio/${source.id}`);
    expect(JSON.stringify(source)).not.toContain(secrets.authToken);

    const listed = await graphql(server.url, WebhookSourcesDocument, {}, acme);
    expect(listed.body.data!.webhookSources.map((listedSource) => listedSource.id)).toContain(source.id);
    // No field of the type carries secrets.
    const asked = await postGraphQL(server.url, { query: "{ webhookSources { id secrets } }" }, acme);
    expect(errorCodes(asked.body)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);

    if (server.databaseUrl) {
      const db = postgres(server.databaseUrl, { max: 1, onnotice: () => {} });
      try {
        const [row] = await db`SELECT sealed_secrets FROM webhook_sources WHERE id = ${source.id}`;
        expect(row!.sealed_secrets).toMatch(/^v1\./);
        expect(row!.sealed_secrets).not.toContain(secrets.authToken);
      } finally {
        await db.end();
      }
    }
  });

  it.each(fixtures.map((each) => [each.provider, each] as const))("%s: a delivery signed with the source's secrets is accepted through its URL; one signed with others is refused", async (_provider, each) => {
    const secrets = each.secrets("mine");
    const source = await createSource(server, acme, each.provider, secrets);
    const accepted = await deliver(source.url, each, secrets);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    const refused = await deliver(source.url, each, each.secrets("someone else's"));
    expect(refused.status).toBe(401);
    expect(refused.body).not.toHaveProperty("stored");
  });

  it("during a rotation the previous and the new secrets both verify; with no grace the previous one stops at once", async () => {
    const generic = fixture("generic");
    const [first, second, third] = [generic.secrets("r1"), generic.secrets("r2"), generic.secrets("r3")];
    const source = await createSource(server, acme, "generic", first);

    const rotated = await graphql(server.url, RotateWebhookSourceSecretsDocument, { id: source.id, secrets: second, graceMinutes: 60 }, acme);
    expect(rotated.body.errors).toBeUndefined();
    expect(rotated.body.data!.rotateWebhookSourceSecrets.secretsRotatedAt).not.toBeNull();
    expect((await deliver(source.url, generic, first)).status).toBe(200);
    expect((await deliver(source.url, generic, second)).status).toBe(200);

    await graphql(server.url, RotateWebhookSourceSecretsDocument, { id: source.id, secrets: third, graceMinutes: 0 }, acme);
    expect((await deliver(source.url, generic, second)).status).toBe(401);
    expect((await deliver(source.url, generic, first)).status).toBe(401);
    expect((await deliver(source.url, generic, third)).status).toBe(200);
  });

  it("an event through a tenant's source never touches another tenant's transfer; through the owner's source it does", async () => {
    const { transfer, providerMessageId } = await sentTransfer(server, cpaas, acme, "+14165553011");
    const before = (await getTransfer(server, acme, transfer.id))?.status;
    const globex = await tokenFor("globex");
    const generic = fixture("generic");
    const globexSecrets = generic.secrets("globex");
    const globexSource = await createSource(server, globex, "generic", globexSecrets);

    const delivered = { event: "message.delivered", timestamp: new Date(Date.now() - 2000).toISOString(), message_id: providerMessageId, channel: "rcs" };
    expect(await postGenericTo(globexSource.url, delivered, globexSecrets.secret!)).toEqual({ status: 200, body: { received: 1, stored: 1, duplicates: 0 } });
    expect((await getTransfer(server, acme, transfer.id))?.status).toBe(before);
    expect((await history(server, acme, transfer.id)).map((event) => event.event)).not.toContain("DELIVERED");
    const globexEvents = await graphql(server.url, ReceiptEventsDocument, { first: 100 }, globex);
    expect(globexEvents.body.data!.receiptEvents.edges).toEqual([]);

    const acmeSecrets = generic.secrets("acme");
    const acmeSource = await createSource(server, acme, "generic", acmeSecrets);
    const read = { ...delivered, event: "message.read", timestamp: new Date().toISOString() };
    expect((await postGenericTo(acmeSource.url, read, acmeSecrets.secret!)).status).toBe(200);
    expect((await getTransfer(server, acme, transfer.id))?.status).toBe("READ");
    expect((await history(server, acme, transfer.id)).map((event) => event.event)).toContain("READ");
  });
});

describe("webhook sources — failing", () => {
  let server: TestServer;
  let acme: string;

  beforeAll(async () => {
    server = await startTestServer();
    acme = await tokenFor("acme");
  });
  afterAll(async () => {
    await server?.close();
  });

  it("an unknown source id, or a source of another provider, is 404", async () => {
    const generic = fixture("generic");
    const secrets = generic.secrets("404");
    const source = await createSource(server, acme, "generic", secrets);
    expect((await deliver(`${server.url}/webhooks/generic/whs_AAAAAAAAAAAAAAAAAAAAAA`, generic, secrets)).status).toBe(404);
    const { body, headers } = await fixture("enablex").sign(source.url, fixture("enablex").secrets("404"));
    expect((await postTo(`${server.url}/webhooks/enablex/${source.id}`, body, headers)).status).toBe(404);
  });

  it("a disabled source refuses every delivery with 401 until it is enabled again", async () => {
    const generic = fixture("generic");
    const secrets = generic.secrets("disabled");
    const source = await createSource(server, acme, "generic", secrets);
    const disabled = await graphql(server.url, SetWebhookSourceEnabledDocument, { id: source.id, enabled: false }, acme);
    expect(disabled.body.data!.setWebhookSourceEnabled.enabled).toBe(false);
    const refused = await deliver(source.url, generic, secrets);
    expect(refused).toEqual({ status: 401, body: { error: "this webhook source is disabled" } });
    await graphql(server.url, SetWebhookSourceEnabledDocument, { id: source.id, enabled: true }, acme);
    expect((await deliver(source.url, generic, secrets)).status).toBe(200);
  });

  it("refuses unknown providers, secrets that are not exactly the provider's, and a negative grace, naming the field", async () => {
    const unknown = await graphql(server.url, CreateWebhookSourceDocument, { input: { provider: "pigeon", secrets: { secret: "x" } } }, acme);
    expect(errorCodes(unknown.body)).toEqual(["BAD_USER_INPUT"]);
    expect(unknown.body.errors![0]!.extensions).toMatchObject({ field: "provider" });

    for (const secrets of [{}, { secret: "" }, { secret: "x", extra: "y" }, { secret: 42 }, { username: "a:b", password: "p" }]) {
      const provider = "username" in secrets ? "enablex" : "generic";
      const refused = await graphql(server.url, CreateWebhookSourceDocument, { input: { provider, secrets } }, acme);
      expect(errorCodes(refused.body), JSON.stringify(secrets)).toEqual(["BAD_USER_INPUT"]);
      expect(String(refused.body.errors![0]!.extensions!.field)).toMatch(/^secrets/);
    }

    const source = await createSource(server, acme, "generic", fixture("generic").secrets("grace"));
    const negative = await graphql(server.url, RotateWebhookSourceSecretsDocument, { id: source.id, secrets: fixture("generic").secrets("g2"), graceMinutes: -1 }, acme);
    expect(errorCodes(negative.body)).toEqual(["BAD_USER_INPUT"]);
  });

  it("needs webhooks:admin, and another tenant's source is NOT_FOUND to rotate, disable or list", async () => {
    const readOnly = await tokenFor("acme", { scopes: ["transfers:read", "transfers:write", "receipts:read"] });
    const forbidden = await graphql(server.url, CreateWebhookSourceDocument, { input: { provider: "generic", secrets: fixture("generic").secrets("f") } }, readOnly);
    expect(errorCodes(forbidden.body)).toEqual(["FORBIDDEN"]);
    expect(errorCodes((await graphql(server.url, WebhookSourcesDocument, {}, readOnly)).body)).toEqual(["FORBIDDEN"]);

    const source = await createSource(server, acme, "generic", fixture("generic").secrets("mine"));
    const globex = await tokenFor("globex");
    const rotate = await graphql(server.url, RotateWebhookSourceSecretsDocument, { id: source.id, secrets: fixture("generic").secrets("theirs"), graceMinutes: 0 }, globex);
    expect(errorCodes(rotate.body)).toEqual(["NOT_FOUND"]);
    const disable = await graphql(server.url, SetWebhookSourceEnabledDocument, { id: source.id, enabled: false }, globex);
    expect(errorCodes(disable.body)).toEqual(["NOT_FOUND"]);
    const listed = await graphql(server.url, WebhookSourcesDocument, {}, globex);
    expect(listed.body.data!.webhookSources.map((theirs) => theirs.id)).not.toContain(source.id);
  });
});

describe("webhook sources — WEBHOOK_RATE_LIMIT", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { WEBHOOK_RATE_LIMIT: "3" } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers 429 with Retry-After past a source's deliveries per second, and counts each source apart", async () => {
    const acme = await tokenFor("acme");
    const generic = fixture("generic");
    const [busy, quiet] = [generic.secrets("busy"), generic.secrets("quiet")];
    const busySource = await createSource(server, acme, "generic", busy);
    const quietSource = await createSource(server, acme, "generic", quiet);
    const answers = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const { body, headers } = await generic.sign(busySource.url, busy);
        const response = await fetch(busySource.url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
        return { status: response.status, retryAfter: response.headers.get("retry-after") };
      }),
    );
    const limited = answers.filter((answer) => answer.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThanOrEqual(3);
    for (const answer of limited) expect(answer.retryAfter).toMatch(/^[1-9]\d*$/);
    expect((await deliver(quietSource.url, generic, quiet)).status).toBe(200);
  });
});

describe.runIf(hasPostgres())("webhook sources — a database without SECRETS_KEY", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ env: { SECRETS_KEY: "" } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("refuses to create a source rather than store its secrets under an invented key", async () => {
    const refused = await graphql(server.url, CreateWebhookSourceDocument, { input: { provider: "generic", secrets: fixture("generic").secrets("k") } }, await tokenFor("acme"));
    expect(errorCodes(refused.body)).toEqual(["FAILED_PRECONDITION"]);
    expect(refused.body.errors![0]!.message).toMatch(/SECRETS_KEY/);
  });
});
