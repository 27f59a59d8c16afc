import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { TEST_SENDGRID_PUBLIC_KEY, TEST_SES_TOPIC_ARN } from "../helpers/server.js";

describe("configuration", () => {
  let dataDir: string;
  const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: dataDir, ...env });
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "ackline-config-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("embedded defaults: simulator for RCS and SMS, invented secrets kept across starts", async () => {
    const first = await load({});
    const second = await load({});
    expect(first.providers).toEqual({ RCS: "simulator", SMS: "simulator" });
    expect(first.generatedAuthSecret).toBe(true);
    expect(first.webhookSecrets.generic).toMatch(/^[0-9a-f]{64}$/);
    expect(second.webhookSecrets.generic).toBe(first.webhookSecrets.generic);
    expect(second.auth.jwtSecret).toBe(first.auth.jwtSecret);
    expect(second.signingKeys[0]!.kid).toBe(first.signingKeys[0]!.kid);
  });

  it("SECRETS_KEY seals webhook sources' secrets: invented and kept in embedded mode (also for a data dir written before it existed), never with a database", async () => {
    const embedded = await load({});
    expect(embedded.secretsKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await load({})).secretsKey).toBe(embedded.secretsKey);

    const olderDir = await mkdtemp(path.join(tmpdir(), "ackline-config-old-"));
    try {
      const { secretsKey: _none, ...before } = JSON.parse(await readFile(path.join(dataDir, "secrets.json"), "utf8")) as Record<string, unknown>;
      await writeFile(path.join(olderDir, "secrets.json"), JSON.stringify(before));
      const upgraded = await loadConfig({ DATA_DIR: olderDir });
      expect(upgraded.secretsKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(upgraded.auth.jwtSecret).toBe(embedded.auth.jwtSecret);
    } finally {
      await rm(olderDir, { recursive: true, force: true });
    }

    const production = { DATABASE_URL: "postgres://db/ackline", AUTH_JWT_SECRET: "s".repeat(40) };
    expect((await load(production)).secretsKey).toBeUndefined();
    expect((await load({ ...production, SECRETS_KEY: "k".repeat(32) })).secretsKey).toBe("k".repeat(32));
    await expect(load({ SECRETS_KEY: "short" })).rejects.toThrow(/SECRETS_KEY/);
  });

  it("CPAAS_API_URL sends RCS and SMS through the generic CPaaS; each channel can be chosen", async () => {
    expect((await load({ CPAAS_API_URL: "http://cpaas.test" })).providers).toEqual({ RCS: "cpaas", SMS: "cpaas" });
    const mixed = await load({ CPAAS_API_URL: "http://cpaas.test", SMS_PROVIDER: "twilio", TWILIO_ACCOUNT_SID: "AC1", TWILIO_AUTH_TOKEN: "t", TWILIO_FROM: "+15550001111" });
    expect(mixed.providers).toEqual({ RCS: "cpaas", SMS: "twilio" });
    expect(mixed.twilio).toMatchObject({ accountSid: "AC1", from: "+15550001111" });
  });

  it("TWILIO_CONTENT_SID names the Content Template Twilio RCS goes out with (HX + 32 hex digits), none by default", async () => {
    const twilio = { RCS_PROVIDER: "twilio", TWILIO_ACCOUNT_SID: "AC1", TWILIO_AUTH_TOKEN: "t", TWILIO_RCS_SENDER: "acme" };
    expect((await load(twilio)).twilio?.contentSid).toBeUndefined();
    const contentSid = `HX${"0a".repeat(16)}`;
    expect((await load({ ...twilio, TWILIO_CONTENT_SID: contentSid })).twilio?.contentSid).toBe(contentSid);
    await expect(load({ ...twilio, TWILIO_CONTENT_SID: "SM123" })).rejects.toThrow(/TWILIO_CONTENT_SID/);
  });

  it("file storage and residency: S3_BUCKET needs both keys and takes STORAGE_REGION as its region; a region is a region name", async () => {
    expect((await load({})).s3).toBeUndefined();
    await expect(load({ S3_BUCKET: "files" })).rejects.toThrow(/S3_ACCESS_KEY_ID/);
    const config = await load({ S3_BUCKET: "files", S3_ACCESS_KEY_ID: "id", S3_SECRET_ACCESS_KEY: "secret", STORAGE_REGION: "eu-central-1" });
    expect(config.s3).toEqual({ bucket: "files", region: "eu-central-1", endpoint: undefined, accessKeyId: "id", secretAccessKey: "secret", keyPrefix: "" });
    expect(config.storageRegion).toBe("eu-central-1");
    await expect(load({ STORAGE_REGION: "Europe (Frankfurt)" })).rejects.toThrow(/STORAGE_REGION/);
  });

  it("refuses a chosen provider without its credentials", async () => {
    await expect(load({ RCS_PROVIDER: "twilio" })).rejects.toThrow(ConfigError);
    await expect(load({ SMS_PROVIDER: "vonage", VONAGE_API_KEY: "k" })).rejects.toThrow(/VONAGE/);
    await expect(load({ RCS_PROVIDER: "cpaas" })).rejects.toThrow(/CPAAS_API_URL/);
  });

  it("refuses a production database without auth, and invents no webhook secret nobody could know", async () => {
    await expect(load({ DATABASE_URL: "postgres://db.test/ackline" })).rejects.toThrow(/AUTH_JWT_SECRET/);
    const production = await load({ DATABASE_URL: "postgres://db.test/ackline", AUTH_JWT_SECRET: "s", CPAAS_API_URL: "http://cpaas.test" });
    expect(production.webhookSecrets.generic).toBeUndefined();
    expect(production.generatedAuthSecret).toBe(false);
  });

  it("the Twilio and Vonage doors verify with TWILIO_AUTH_TOKEN and VONAGE_SIGNATURE_SECRET, whichever adapter sends", async () => {
    const receiving = await load({ TWILIO_AUTH_TOKEN: "twilio-token", VONAGE_SIGNATURE_SECRET: "vonage-secret" });
    // No account SID: nothing is sent through Twilio, yet its receipts can be verified.
    expect(receiving.twilio).toBeUndefined();
    expect(receiving.webhookSecrets).toMatchObject({ twilioAuthToken: "twilio-token", vonageSignatureSecret: "vonage-secret" });
    // Nothing is invented for them: an empty or absent secret leaves the door closed.
    const closed = await load({ TWILIO_AUTH_TOKEN: "", VONAGE_SIGNATURE_SECRET: "" });
    expect(closed.webhookSecrets.twilioAuthToken).toBeUndefined();
    expect(closed.webhookSecrets.vonageSignatureSecret).toBeUndefined();
  });

  it("the RBM, Sinch and Infobip doors read their own variables, and stay closed without them", async () => {
    const receiving = await load({ WEBHOOK_RBM_CLIENT_TOKEN: "rbm-token", WEBHOOK_SINCH_SECRET: "sinch-secret", WEBHOOK_INFOBIP_BASIC: "infobip:pass" });
    expect(receiving.webhookSecrets).toMatchObject({ rbmClientToken: "rbm-token", sinchSecret: "sinch-secret", infobipBasic: "infobip:pass" });
    const closed = await load({ WEBHOOK_RBM_CLIENT_TOKEN: "", WEBHOOK_SINCH_SECRET: "" });
    expect(closed.webhookSecrets.rbmClientToken).toBeUndefined();
    expect(closed.webhookSecrets.sinchSecret).toBeUndefined();
    expect(closed.webhookSecrets.infobipBasic).toBeUndefined();
    await expect(load({ WEBHOOK_INFOBIP_BASIC: "no-colon" })).rejects.toThrow(/WEBHOOK_INFOBIP_BASIC/);
  });

  it("the email doors' secrets: each checked for its shape, absent unless set", async () => {
    const email = await load({ WEBHOOK_SENDGRID_PUBLIC_KEY: TEST_SENDGRID_PUBLIC_KEY, WEBHOOK_MAILGUN_SIGNING_KEY: "mg-key", WEBHOOK_SES_TOPIC_ARN: TEST_SES_TOPIC_ARN });
    expect(email.webhookSecrets).toMatchObject({ sendgridPublicKey: TEST_SENDGRID_PUBLIC_KEY, mailgunSigningKey: "mg-key", sesTopicArn: TEST_SES_TOPIC_ARN });
    expect(email.snsCertificates).toEqual({});
    const closed = await load({});
    expect([closed.webhookSecrets.sendgridPublicKey, closed.webhookSecrets.mailgunSigningKey, closed.webhookSecrets.sesTopicArn]).toEqual([undefined, undefined, undefined]);
    await expect(load({ WEBHOOK_SENDGRID_PUBLIC_KEY: "not-a-key" })).rejects.toThrow(/WEBHOOK_SENDGRID_PUBLIC_KEY/);
    await expect(load({ WEBHOOK_SES_TOPIC_ARN: "my-topic" })).rejects.toThrow(/WEBHOOK_SES_TOPIC_ARN/);
    await expect(load({ SNS_CERTIFICATES: "[1]" })).rejects.toThrow(/SNS_CERTIFICATES/);
    await expect(load({ SNS_CERTIFICATES: JSON.stringify({ "https://sns.us-east-1.amazonaws.com/a.pem": "not a PEM" }) })).rejects.toThrow(/not a PEM certificate/);
  });

  it("names the variable that is wrong", async () => {
    await expect(load({ PORT: "http" })).rejects.toThrow(/PORT/);
    await expect(load({ WEBHOOK_STANDARD_SECRET: "plain" })).rejects.toThrow(/WEBHOOK_STANDARD_SECRET/);
  });

  it("keeps PUBLIC_BASE_URL without a trailing slash, since paths are appended to it", async () => {
    expect((await load({ PUBLIC_BASE_URL: "https://ackline.example.com/" })).publicBaseUrl).toBe("https://ackline.example.com");
  });

  it("REDIS_CLUSTER_URLS takes comma-separated seed nodes, with or without redis://, and never together with REDIS_URL", async () => {
    expect((await load({})).redisClusterUrls).toBeUndefined();
    expect((await load({ REDIS_CLUSTER_URLS: "redis://10.0.0.1:7000, 10.0.0.2:7001," })).redisClusterUrls).toEqual(["redis://10.0.0.1:7000", "redis://10.0.0.2:7001"]);
    await expect(load({ REDIS_CLUSTER_URLS: "http://10.0.0.1:7000" })).rejects.toThrow(/REDIS_CLUSTER_URLS/);
    await expect(load({ REDIS_URL: "redis://127.0.0.1:6379", REDIS_CLUSTER_URLS: "10.0.0.1:7000" })).rejects.toThrow(/not both/);
  });

  it("DATABASE_READ_URL is a replica of DATABASE_URL, and means nothing without it", async () => {
    const primary = { DATABASE_URL: "postgres://db/ackline", AUTH_JWT_SECRET: "secret" };
    expect((await load(primary)).databaseReadUrl).toBeUndefined();
    expect((await load({ ...primary, DATABASE_READ_URL: "postgres://replica/ackline" })).databaseReadUrl).toBe("postgres://replica/ackline");
    await expect(load({ DATABASE_READ_URL: "postgres://replica/ackline" })).rejects.toThrow(/DATABASE_READ_URL needs DATABASE_URL/);
  });

  it("reads per-provider rate limits (sends per second, optional burst), none by default", async () => {
    expect((await load({})).dispatchRateLimits.size).toBe(0);
    const limits = (await load({ DISPATCH_RATE_LIMITS: "twilio=10:20, cpaas=0.5" })).dispatchRateLimits;
    expect([...limits]).toEqual([
      ["twilio", { perSecond: 10, burst: 20 }],
      ["cpaas", { perSecond: 0.5, burst: 1 }],
    ]);
    for (const wrong of ["twilio", "twilio=0", "twilio=10:0", "twilio=fast"]) {
      await expect(load({ DISPATCH_RATE_LIMITS: wrong })).rejects.toThrow(/DISPATCH_RATE_LIMITS/);
    }
  });

  it("bounds an access token's lifetime: AUTH_MAX_TOKEN_TTL in seconds or with a unit, 24 h by default", async () => {
    expect((await load({})).auth.maxTokenTtlSeconds).toBe(86_400);
    expect((await load({ AUTH_MAX_TOKEN_TTL: "3600" })).auth.maxTokenTtlSeconds).toBe(3600);
    expect((await load({ AUTH_MAX_TOKEN_TTL: "90s" })).auth.maxTokenTtlSeconds).toBe(90);
    expect((await load({ AUTH_MAX_TOKEN_TTL: "30m" })).auth.maxTokenTtlSeconds).toBe(1800);
    expect((await load({ AUTH_MAX_TOKEN_TTL: "24h" })).auth.maxTokenTtlSeconds).toBe(86_400);
    expect((await load({ AUTH_MAX_TOKEN_TTL: "7d" })).auth.maxTokenTtlSeconds).toBe(604_800);
    for (const wrong of ["0", "1w", "24 hours", "-5", "1.5h"]) {
      await expect(load({ AUTH_MAX_TOKEN_TTL: wrong })).rejects.toThrow(/AUTH_MAX_TOKEN_TTL/);
    }
  });

  it("reads the GraphQL limits, with defaults that fit every operation in the README and the introspection query", async () => {
    const defaults = await load({});
    expect(defaults.graphqlLimits).toEqual({ maxCost: 20_000, maxDepth: 15, maxAliases: 30, maxRootFields: 20, maxTokens: 1000 });
    expect(defaults.graphqlBodyLimit).toBe(1024 * 1024);
    const set = await load({ GRAPHQL_MAX_COST: "500", GRAPHQL_MAX_DEPTH: "8", GRAPHQL_MAX_ALIASES: "0", GRAPHQL_MAX_ROOT_FIELDS: "5", GRAPHQL_MAX_TOKENS: "300", GRAPHQL_BODY_LIMIT: "65536" });
    expect(set.graphqlLimits).toEqual({ maxCost: 500, maxDepth: 8, maxAliases: 0, maxRootFields: 5, maxTokens: 300 });
    expect(set.graphqlBodyLimit).toBe(65_536);
    await expect(load({ GRAPHQL_MAX_DEPTH: "0" })).rejects.toThrow(/GRAPHQL_MAX_DEPTH/);
    await expect(load({ GRAPHQL_MAX_COST: "lots" })).rejects.toThrow(/GRAPHQL_MAX_COST/);
  });

  it("keeps webhook deliveries WEBHOOK_LOG_RETENTION_DAYS days, 30 by default, and refuses anything but 1 to 3650", async () => {
    expect((await load({})).webhookLogRetentionDays).toBe(30);
    expect((await load({ WEBHOOK_LOG_RETENTION_DAYS: "7" })).webhookLogRetentionDays).toBe(7);
    for (const wrong of ["0", "-1", "1.5", "a week", "3651"]) {
      await expect(load({ WEBHOOK_LOG_RETENTION_DAYS: wrong })).rejects.toThrow(/WEBHOOK_LOG_RETENTION_DAYS/);
    }
  });

  it("sends stack traces with GraphQL errors only when NODE_ENV is development", async () => {
    expect((await load({})).development).toBe(false);
    expect((await load({ NODE_ENV: "production" })).development).toBe(false);
    expect((await load({ NODE_ENV: "development" })).development).toBe(true);
  });

  it("trusts no proxy unless TRUST_PROXY lists addresses or CIDRs, and refuses anything else", async () => {
    expect((await load({})).trustProxy).toEqual([]);
    expect((await load({ TRUST_PROXY: " 10.0.0.0/8, 192.0.2.7,::1 ,loopback" })).trustProxy).toEqual(["10.0.0.0/8", "192.0.2.7", "::1", "loopback"]);
    await expect(load({ TRUST_PROXY: "proxy.example.com" })).rejects.toThrow(/TRUST_PROXY/);
    await expect(load({ TRUST_PROXY: "10.0.0.0/99" })).rejects.toThrow(/TRUST_PROXY/);
  });

  it("reads <count>/<window> or off from the environment, with defaults that leave the suite and the bench alone", async () => {
    const defaults = await load({});
    expect(defaults.rateLimits).toEqual({
      mutations: { points: 1200, durationSeconds: 60 },
      authFailures: { points: 600, durationSeconds: 60 },
      recipient: { points: 300, durationSeconds: 60 },
      webhookSource: { points: 1000, durationSeconds: 1 },
    });
    expect(defaults.webSocketLimits).toEqual({ maxSubscriptionsPerSocket: 100, maxSocketsPerTenant: 1000, maxBufferedUpdates: 5000 });
    const set = await load({ RATE_LIMIT_MUTATIONS: "20 / 10s", RATE_LIMIT_AUTH_FAILURES: "off", RATE_LIMIT_RECIPIENT: "5/2h", WEBHOOK_RATE_LIMIT: "50" });
    expect(set.rateLimits).toEqual({
      mutations: { points: 20, durationSeconds: 10 },
      authFailures: null,
      recipient: { points: 5, durationSeconds: 7200 },
      webhookSource: { points: 50, durationSeconds: 1 },
    });
    expect((await load({ WEBHOOK_RATE_LIMIT: "off" })).rateLimits.webhookSource).toBeNull();
    await expect(load({ WEBHOOK_RATE_LIMIT: "5/1m" })).rejects.toThrow(/WEBHOOK_RATE_LIMIT/);
    await expect(load({ RATE_LIMIT_MUTATIONS: "lots" })).rejects.toThrow(/RATE_LIMIT_MUTATIONS/);
    await expect(load({ RATE_LIMIT_RECIPIENT: "0/1m" })).rejects.toThrow(/RATE_LIMIT_RECIPIENT/);
    await expect(load({ WS_MAX_SOCKETS_PER_TENANT: "0" })).rejects.toThrow(/WS_MAX_SOCKETS_PER_TENANT/);
  });

  it("bounds the database waits and the shutdown: DATABASE_*_TIMEOUT_MS and SHUTDOWN_TIMEOUT_MS, with their defaults", async () => {
    const defaults = await load({});
    expect(defaults.databaseTimeouts).toEqual({ connectMs: 2000, requestMs: 5000, statementMs: 30_000 });
    expect(defaults.shutdownTimeoutMs).toBe(10_000);
    const set = await load({ DATABASE_STATEMENT_TIMEOUT_MS: "0", SHUTDOWN_TIMEOUT_MS: "25000" });
    expect(set.databaseTimeouts.statementMs).toBe(0);
    expect(set.shutdownTimeoutMs).toBe(25_000);
    await expect(load({ SHUTDOWN_TIMEOUT_MS: "0" })).rejects.toThrow(/SHUTDOWN_TIMEOUT_MS/);
    await expect(load({ DATABASE_STATEMENT_TIMEOUT_MS: "-1" })).rejects.toThrow(/DATABASE_STATEMENT_TIMEOUT_MS/);
  });
});
