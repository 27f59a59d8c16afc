import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Ackline, createAckline } from "../../src/app.js";
import { SCOPES, signAccessToken } from "../../src/auth/access-tokens.js";
import { loadConfig } from "../../src/config.js";
import { createLogger, type Logger } from "../../src/logger.js";
import { createTestDatabase, hasRedis, REDIS_URL } from "./services.js";

export const TEST_AUTH_SECRET = "test-auth-secret-with-enough-entropy-0123456789";
export const TEST_AUDIENCE = "ackline";
export const TEST_GENERIC_SECRET = "generic-test-secret";
export const TEST_ENABLEX_BASIC = "enablex:s3cret-pass";
/** Standard Webhooks' own test-vector key. */
export const TEST_STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const TEST_TWILIO_AUTH_TOKEN = "twilio-test-auth-token";
export const TEST_VONAGE_SIGNATURE_SECRET = "vonage-test-signature-secret-0123456789";
/** Google's own example client token (RBM webhook set-up). */
export const TEST_RBM_CLIENT_TOKEN = "SJENCPGJESMGUFPY";
export const TEST_SINCH_SECRET = "sinch-test-webhook-secret";
export const TEST_INFOBIP_BASIC = "infobip:s3cret-pass";
/** SendGrid signs with the private half; the door holds the public half as SendGrid shows it (base64 DER). */
export const TEST_SENDGRID_KEYS = generateKeyPairSync("ec", { namedCurve: "P-256" });
export const TEST_SENDGRID_PUBLIC_KEY = TEST_SENDGRID_KEYS.publicKey.export({ type: "spki", format: "der" }).toString("base64");
export const TEST_MAILGUN_SIGNING_KEY = "mailgun-test-signing-key-0123456789abcdef";
export const TEST_SECRETS_KEY = "test-secrets-key-0123456789abcdef0123456789";
export const TEST_SES_TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ackline-ses-events";

export interface TestServer {
  ackline: Ackline;
  url: string;
  wsUrl: string;
  databaseUrl?: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Share a database with another instance (several instances, one store). */
  databaseUrl?: string;
  /** Use Redis pubsub (default when Redis is reachable). */
  redis?: boolean;
  env?: Record<string, string>;
  /** Where the server logs (default: a pino logger at TEST_LOG_LEVEL, silent unless set). */
  log?: Logger;
}

/** Any test server's environment: an ephemeral loopback port, its own data directory, the test secrets. */
export function baseTestEnv(dataDir: string): Record<string, string> {
  return {
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: TEST_AUTH_SECRET,
    AUTH_AUDIENCE: TEST_AUDIENCE,
    WEBHOOK_GENERIC_SECRET: TEST_GENERIC_SECRET,
  };
}

/** Starts a real Ackline on an ephemeral port against a fresh PostgreSQL database (or PGlite outside CI). */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownDatabase = options.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = options.databaseUrl ?? ownDatabase?.url;
  const dataDir = await mkdtemp(path.join(tmpdir(), "ackline-test-"));
  const useRedis = options.redis ?? hasRedis();
  const config = await loadConfig({
    ...baseTestEnv(dataDir),
    WEBHOOK_ENABLEX_BASIC: TEST_ENABLEX_BASIC,
    WEBHOOK_STANDARD_SECRET: TEST_STANDARD_SECRET,
    TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN,
    VONAGE_SIGNATURE_SECRET: TEST_VONAGE_SIGNATURE_SECRET,
    WEBHOOK_RBM_CLIENT_TOKEN: TEST_RBM_CLIENT_TOKEN,
    WEBHOOK_SINCH_SECRET: TEST_SINCH_SECRET,
    WEBHOOK_INFOBIP_BASIC: TEST_INFOBIP_BASIC,
    WEBHOOK_SENDGRID_PUBLIC_KEY: TEST_SENDGRID_PUBLIC_KEY,
    WEBHOOK_MAILGUN_SIGNING_KEY: TEST_MAILGUN_SIGNING_KEY,
    WEBHOOK_SES_TOPIC_ARN: TEST_SES_TOPIC_ARN,
    SECRETS_KEY: TEST_SECRETS_KEY,
    // The suite runs many servers at once on a small machine: an ordinary wait there can pass 5 s,
    // and a connection (a server's first, for its migrations) 2 s. Tests of outages set their own, shorter deadlines.
    DATABASE_REQUEST_TIMEOUT_MS: "15000",
    DATABASE_CONNECT_TIMEOUT_MS: "10000",
    SIMULATOR_STEP_MS: "50",
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(useRedis ? { REDIS_URL } : {}),
    ...options.env,
  });
  const ackline = await createAckline(config, options.log ?? createLogger(config.logLevel));
  const url = await ackline.listen();
  return {
    ackline,
    url,
    wsUrl: `${url.replace(/^http/, "ws")}/graphql`,
    databaseUrl,
    async close() {
      await ackline.close();
      await ownDatabase?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function tokenFor(
  tenantId: string,
  options: { scopes?: readonly string[]; audience?: string; expiresIn?: string | number; secret?: string } = {},
): Promise<string> {
  return signAccessToken(options.secret ?? TEST_AUTH_SECRET, {
    tenantId,
    scopes: options.scopes ?? SCOPES,
    audience: options.audience ?? TEST_AUDIENCE,
    expiresIn: options.expiresIn,
  });
}
