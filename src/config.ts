import { createPublicKey, randomBytes, X509Certificate } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import proxyAddr from "@fastify/proxy-addr";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import { z } from "zod";
import { parseRateLimits, type RateLimit as SendRateLimit } from "./delivery/throttle.js";

const booleanFlag = z
  .enum(["true", "false", "1", "0"])
  .transform((value) => value === "true" || value === "1");

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === "" ? undefined : value));

/** HTTP Basic credentials a provider sends, `user:password`. */
const basicCredentials = optionalString.pipe(z.string().regex(/^[^:]+:.+$/, "expected user:password").optional());

function isP256PublicKey(base64Der: string): boolean {
  try {
    return createPublicKey({ key: Buffer.from(base64Der, "base64"), format: "der", type: "spki" }).asymmetricKeyDetails?.namedCurve === "prime256v1";
  } catch {
    return false;
  }
}

/** `SNS_CERTIFICATES`: a JSON object of certificate URL → PEM, each a certificate Node can read. */
function certificatesByUrl(json: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error("expected a JSON object of certificate URL → PEM");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("expected a JSON object of certificate URL → PEM");
  for (const [url, pem] of Object.entries(parsed)) {
    try {
      new X509Certificate(String(pem));
    } catch {
      throw new Error(`the value for ${url} is not a PEM certificate`);
    }
  }
  return parsed as Record<string, string>;
}

/** `TRUST_PROXY`: comma-separated addresses, CIDRs or proxy-addr's names (`loopback` …), each one proxy-addr accepts. */
const trustedProxies = z
  .string()
  .default("")
  .transform((value, ctx) => {
    const proxies = value.split(",").map((entry) => entry.trim()).filter(Boolean);
    try {
      proxyAddr.compile(proxies);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `expected addresses or CIDRs: ${(error as Error).message}` });
      return z.NEVER;
    }
    return proxies;
  });

const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds, bare (`86400`) or with a unit (`90s`, `30m`, `24h`, `7d`). */
const durationSeconds = z
  .string()
  .trim()
  .regex(/^\d+ *[smhd]?$/, "expected seconds or a duration like 24h")
  .transform((value) => parseInt(value, 10) * (SECONDS_PER_UNIT[value.at(-1)!] ?? 1))
  .pipe(z.number().int().min(1, "must be at least one second"));

const positiveInt = z.coerce.number().int().min(1);

/** `<count>/<window>` (`600/1m`, `10/30s`), or `off`: at most count in the window. */
const rateLimit = z
  .string()
  .trim()
  .regex(/^(off|\d+ *\/ *\d+ *[smhd]?)$/, "expected <count>/<window> like 600/1m, or off")
  .transform((value): RateLimit | null => {
    if (value === "off") return null;
    const [count, window] = value.split("/").map((part) => part.trim());
    return { points: parseInt(count!, 10), durationSeconds: parseInt(window!, 10) * (SECONDS_PER_UNIT[window!.at(-1)!] ?? 1) };
  })
  .refine((limit) => limit === null || (limit.points > 0 && limit.durationSeconds > 0), "count and window must be at least 1");

const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default("127.0.0.1"),
  DATABASE_URL: optionalString,
  DATABASE_READ_URL: optionalString,
  REDIS_URL: optionalString,
  /** Seed nodes, comma-separated: `redis://host:port` (or bare `host:port`), credentials in the first. */
  REDIS_CLUSTER_URLS: optionalString.transform((value, ctx) => {
    if (value === undefined) return undefined;
    const urls = value.split(",").map((seed) => seed.trim()).filter(Boolean).map((seed) => (seed.includes("://") ? seed : `redis://${seed}`));
    for (const url of urls) {
      if (!URL.canParse(url) || new URL(url).protocol !== "redis:" || !new URL(url).hostname) {
        ctx.addIssue({ code: "custom", message: `not a Redis node URL: ${url}` });
        return z.NEVER;
      }
    }
    return urls.length > 0 ? urls : undefined;
  }),
  AUTH_JWT_SECRET: optionalString,
  AUTH_JWKS_URL: optionalString.pipe(z.url().optional()),
  AUTH_AUDIENCE: z.string().default("ackline"),
  AUTH_MAX_TOKEN_TTL: durationSeconds.default(24 * 3600),
  CPAAS_API_URL: optionalString.pipe(z.url().optional()),
  CPAAS_TOKEN: optionalString,
  RCS_PROVIDER: z.enum(["simulator", "cpaas", "twilio", "vonage"]).optional(),
  SMS_PROVIDER: z.enum(["simulator", "cpaas", "twilio", "vonage"]).optional(),
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_FROM: optionalString,
  TWILIO_MESSAGING_SERVICE_SID: optionalString,
  TWILIO_RCS_SENDER: optionalString,
  TWILIO_CONTENT_SID: optionalString.pipe(z.string().regex(/^HX[0-9a-fA-F]{32}$/, "expected a Content Template SID, HX followed by 32 hex digits").optional()),
  VONAGE_APPLICATION_ID: optionalString,
  VONAGE_PRIVATE_KEY: optionalString,
  VONAGE_API_KEY: optionalString,
  VONAGE_API_SECRET: optionalString,
  VONAGE_SMS_FROM: optionalString,
  VONAGE_RCS_FROM: optionalString,
  VONAGE_API_URL: optionalString.pipe(z.url().optional()),
  VONAGE_SIGNATURE_SECRET: optionalString,
  WEBHOOK_GENERIC_SECRET: optionalString,
  WEBHOOK_ENABLEX_BASIC: basicCredentials,
  WEBHOOK_STANDARD_SECRET: optionalString.pipe(
    z.string().startsWith("whsec_", "expected a whsec_… key").optional(),
  ),
  WEBHOOK_RBM_CLIENT_TOKEN: optionalString,
  WEBHOOK_SINCH_SECRET: optionalString,
  WEBHOOK_INFOBIP_BASIC: basicCredentials,
  WEBHOOK_SENDGRID_PUBLIC_KEY: optionalString.pipe(
    z.string().refine(isP256PublicKey, "expected SendGrid's verification key: base64 DER of an ECDSA P-256 public key").optional(),
  ),
  WEBHOOK_MAILGUN_SIGNING_KEY: optionalString,
  WEBHOOK_SES_TOPIC_ARN: optionalString.pipe(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/, "expected an SNS topic ARN").optional()),
  SNS_CERTIFICATES: z
    .string()
    .default("{}")
    .transform((value, ctx) => {
      try {
        return certificatesByUrl(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  TRUST_PROXY: trustedProxies,
  PUBLIC_BASE_URL: optionalString.pipe(z.url().optional()),
  DOWNLOAD_URL_TEMPLATE: optionalString.pipe(z.url().includes("{transferId}", "expected a URL with {transferId}").optional()),
  SIGNING_KEY: optionalString,
  STORAGE_REGION: optionalString.pipe(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected a region name such as eu-central-1").optional()),
  S3_BUCKET: optionalString,
  S3_REGION: optionalString,
  S3_ENDPOINT: optionalString.pipe(z.url().optional()),
  S3_ACCESS_KEY_ID: optionalString,
  S3_SECRET_ACCESS_KEY: optionalString,
  S3_KEY_PREFIX: z.string().default(""),
  SECRETS_KEY: optionalString.pipe(z.string().min(32, "must be at least 32 characters (a random secret)").optional()),
  SMTP_URL: optionalString,
  EMAIL_FROM: z.string().default("Ackline <notifications@ackline.local>"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  GRAPHQL_INTROSPECTION: booleanFlag.default(true),
  GRAPHQL_MAX_COST: positiveInt.default(20_000),
  GRAPHQL_MAX_DEPTH: positiveInt.default(15),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).default(30),
  GRAPHQL_MAX_ROOT_FIELDS: positiveInt.default(20),
  GRAPHQL_MAX_TOKENS: positiveInt.default(1000),
  RATE_LIMIT_MUTATIONS: rateLimit.default(rateLimit.parse("1200/1m")),
  RATE_LIMIT_AUTH_FAILURES: rateLimit.default(rateLimit.parse("600/1m")),
  RATE_LIMIT_RECIPIENT: rateLimit.default(rateLimit.parse("300/1m")),
  // Deliveries per second to one tenant's webhook source, or off.
  WEBHOOK_RATE_LIMIT: z
    .string()
    .trim()
    .regex(/^(off|[1-9]\d*)$/, "expected deliveries per second (a whole number), or off")
    .default("1000")
    .transform((value): RateLimit | null => (value === "off" ? null : { points: parseInt(value, 10), durationSeconds: 1 })),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: positiveInt.default(100),
  WS_MAX_SOCKETS_PER_TENANT: positiveInt.default(1000),
  WS_MAX_BUFFERED_UPDATES: positiveInt.default(5000),
  GRAPHQL_BODY_LIMIT: z.coerce.number().int().min(1024).default(1024 * 1024),
  NODE_ENV: optionalString,
  SIMULATOR_STEP_MS: z.coerce.number().int().min(0).default(1000),
  ROLE: z.enum(["all", "api", "worker"]).default("all"),
  DATA_DIR: z.string().default(".data"),
  DISPATCH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  DISPATCH_LEASE_MS: z.coerce.number().int().min(1000).default(60_000),
  WEBHOOK_BODY_LIMIT: z.coerce.number().int().min(1024).default(256 * 1024),
  RECEIPT_BACKLOG_LIMIT: z.coerce.number().int().min(1).default(1_000_000),
  WEBHOOK_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(2000),
  DATABASE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).default(10_000),
  DISPATCH_RATE_LIMITS: z
    .string()
    .default("")
    .transform((value, ctx) => {
      try {
        return parseRateLimits(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
});

/** An S3-compatible bucket the files are read from (AWS, or any store at `endpoint`: MinIO, R2, …). */
export interface S3Location {
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Unset: AWS's virtual-hosted endpoint for the region. Set: path-style URLs under it. */
  endpoint?: string;
  /** Prepended to the transfer id to name its object. */
  keyPrefix: string;
}

export type Environment = z.infer<typeof environmentSchema>;
export type MessagingProvider = "simulator" | "cpaas" | "twilio" | "vonage";

export interface Config {
  port: number;
  host: string;
  databaseUrl?: string;
  /** A replica (or any read-only copy) for pure reads that may lag the primary a little: receipt history. */
  databaseReadUrl?: string;
  redisUrl?: string;
  /** Pubsub on a Redis Cluster (sharded channels), given by its seed nodes. */
  redisClusterUrls?: string[];
  /** `maxTokenTtlSeconds` bounds a token's lifetime (`exp - iat`, or `exp - now` without `iat`). */
  auth: { audience: string; jwtSecret?: string; jwksUrl?: string; maxTokenTtlSeconds: number };
  cpaas?: { apiUrl: string; token?: string };
  /** Which adapter sends each phone channel; email always goes over SMTP (or the log). */
  providers: { RCS: MessagingProvider; SMS: MessagingProvider };
  twilio?: { accountSid: string; authToken: string; from?: string; messagingServiceSid?: string; rcsSender?: string; contentSid?: string };
  vonage?: {
    auth: { applicationId: string; privateKey: string } | { apiKey: string; apiSecret: string };
    smsFrom?: string;
    rcsFrom?: string;
    /** The Messages API host; revoking RCS needs the agent's regional one. */
    baseUrl?: string;
  };
  webhookSecrets: {
    generic?: string;
    enablexBasic?: string;
    standard?: string;
    twilioAuthToken?: string;
    vonageSignatureSecret?: string;
    rbmClientToken?: string;
    sinchSecret?: string;
    /** `user:password`, like `enablexBasic`. */
    infobipBasic?: string;
    /** SendGrid's Event Webhook verification key: base64 DER (SubjectPublicKeyInfo) of an ECDSA P-256 key. */
    sendgridPublicKey?: string;
    mailgunSigningKey?: string;
    /** The one SNS topic whose SES notifications (and subscription) this door accepts. */
    sesTopicArn?: string;
  };
  /** SNS signing certificates known in advance (URL → PEM), for machines that cannot fetch them. */
  snsCertificates: Record<string, string>;
  /** Proxies whose X-Forwarded-For (and -Proto, -Host) are believed; empty: none, the peer's address is the client's. */
  trustProxy: string[];
  /** Explicit base for recipient links; otherwise derived from the bound address. */
  publicBaseUrl?: string;
  /** Where a recipient's download goes once recorded (`{transferId}` replaced); unset: a confirmation page. */
  downloadUrlTemplate?: string;
  /** This deployment's region: recorded on each transfer; tenants pinned to another region cannot create transfers here. */
  storageRegion?: string;
  /** An S3-compatible bucket the files are downloaded from (presigned URLs), unless DOWNLOAD_URL_TEMPLATE is set. */
  s3?: S3Location;
  /** Ackline's own Ed25519 private JWKs; the first signs, all are published. */
  signingKeys: JWK[];
  /** Seals webhook sources' secrets at rest; without it (a database but no `SECRETS_KEY`) sources cannot be created. */
  secretsKey?: string;
  smtpUrl?: string;
  emailFrom: string;
  logLevel: Environment["LOG_LEVEL"];
  introspection: boolean;
  /** What one GraphQL operation may ask for, over HTTP and graphql-ws alike. */
  graphqlLimits: GraphQLLimits;
  /** Request limits shared by every instance (Redis), each null when off. */
  rateLimits: RateLimitSettings;
  /**
   * graphql-ws caps: operations at once on one socket, sockets at once per tenant on one instance,
   * and live updates one socket may have waiting to be written before it is closed as too slow.
   */
  webSocketLimits: { maxSubscriptionsPerSocket: number; maxSocketsPerTenant: number; maxBufferedUpdates: number };
  /** Largest GraphQL request: the HTTP body and the graphql-ws message alike. */
  graphqlBodyLimit: number;
  /** NODE_ENV=development: GraphQL errors carry their stack traces (never otherwise). */
  development: boolean;
  simulatorStepMs: number;
  role: Environment["ROLE"];
  dataDir: string;
  dispatchMaxAttempts: number;
  /** How long a claimed send may take before another worker may claim it again. */
  dispatchLeaseMs: number;
  /** Sends per second (and burst) per provider and channel, shared by every instance; none: unpaced. */
  dispatchRateLimits: ReadonlyMap<string, SendRateLimit>;
  webhookBodyLimit: number;
  /** Days the webhook delivery log keeps a delivery (`WEBHOOK_LOG_RETENTION_DAYS`). */
  webhookLogRetentionDays: number;
  /** Acknowledged events not yet folded beyond which the webhook door answers 503 (about a minute of peak ingest by default). */
  receiptBacklogLimit: number;
  /**
   * How long connecting may take; the longest a webhook or a GraphQL operation waits for the
   * database before it is answered 503 / SERVICE_UNAVAILABLE; how long the server lets one
   * statement run (0: no limit; migrations never have one).
   */
  databaseTimeouts: { connectMs: number; requestMs: number; statementMs: number };
  /** SIGTERM/SIGINT: the longest a shutdown may take before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** Secrets invented at start (embedded mode); the dev token is printed only then. */
  generatedAuthSecret: boolean;
}

/** At most `points` in any `durationSeconds` (a fixed window per key); null where a limit is off. */
export interface RateLimit {
  points: number;
  durationSeconds: number;
}

export interface RateLimitSettings {
  /** GraphQL mutations per token (tenant and subject), over HTTP and graphql-ws. */
  mutations: RateLimit | null;
  /** Failed authentications per client address: bad API tokens (HTTP 401, graphql-ws 4403) and webhook 401s. */
  authFailures: RateLimit | null;
  /** Requests per client address on the recipient routes (/t, /u). */
  recipient: RateLimit | null;
  /** Deliveries per second to one tenant's webhook source. */
  webhookSource: RateLimit | null;
}

export interface GraphQLLimits {
  maxCost: number;
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxTokens: number;
}

export class ConfigError extends Error {}

export function parseEnvironment(env: NodeJS.ProcessEnv): Environment {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  return parsed.data;
}

function parseSigningKeys(value: string): JWK[] {
  const parsed: unknown = JSON.parse(value);
  const keys = Array.isArray(parsed) ? parsed : [parsed];
  for (const key of keys as JWK[]) {
    if (key.kty !== "OKP" || key.crv !== "Ed25519" || !key.d || !key.kid) {
      throw new ConfigError("SIGNING_KEY must be Ed25519 private JWK(s) with a kid");
    }
  }
  return keys as JWK[];
}

interface StoredSecrets {
  genericWebhookSecret: string;
  apiTokenSecret: string;
  signingKey: JWK;
  /** Added later than the others: a file written before has none until it is needed. */
  secretsKey?: string;
}

/** Where embedded mode keeps the secrets it invented. */
export const storedSecretsFile = (dataDir: string) => path.resolve(dataDir, "secrets.json");

/** Secrets that embedded mode invents once and keeps, so tokens and links survive restarts. */
async function loadOrCreateStoredSecrets(dataDir: string): Promise<StoredSecrets> {
  const file = storedSecretsFile(dataDir);
  let secrets: StoredSecrets;
  try {
    secrets = JSON.parse(await readFile(file, "utf8")) as StoredSecrets;
    if (secrets.secretsKey) return secrets;
  } catch {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const signingKey = { ...(await exportJWK(privateKey)), kid: `ack-${randomBytes(6).toString("hex")}`, alg: "EdDSA" };
    secrets = { genericWebhookSecret: randomBytes(32).toString("hex"), apiTokenSecret: randomBytes(32).toString("base64url"), signingKey };
  }
  secrets.secretsKey = randomBytes(32).toString("base64url");
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/**
 * Turns the environment into a typed config. Each embedded default is decided per variable;
 * a production database with no auth configured is refused rather than given an invented secret.
 */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const e = parseEnvironment(env);
  const authConfigured = Boolean(e.AUTH_JWT_SECRET || e.AUTH_JWKS_URL);
  if (e.REDIS_URL && e.REDIS_CLUSTER_URLS) throw new ConfigError("set REDIS_URL or REDIS_CLUSTER_URLS, not both");
  if (e.DATABASE_READ_URL && !e.DATABASE_URL) throw new ConfigError("DATABASE_READ_URL needs DATABASE_URL: a replica of what?");
  if (e.DATABASE_URL && !authConfigured) {
    throw new ConfigError("DATABASE_URL is set but neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is: refusing to start");
  }
  // The generic secret is invented only where someone can know it: embedded mode or the simulator.
  const simulatorInUse = [e.RCS_PROVIDER, e.SMS_PROVIDER].some((provider) => (provider ?? (e.CPAAS_API_URL ? "cpaas" : "simulator")) === "simulator");
  const inventGenericSecret = !e.WEBHOOK_GENERIC_SECRET && (!e.DATABASE_URL || simulatorInUse);
  // Sources' secrets are sealed with a key every instance must share: invented only in embedded mode.
  const inventSecretsKey = !e.SECRETS_KEY && !e.DATABASE_URL;
  const needsStored = !authConfigured || inventGenericSecret || !e.SIGNING_KEY || inventSecretsKey;
  const stored = needsStored ? await loadOrCreateStoredSecrets(e.DATA_DIR) : undefined;

  const defaultProvider: MessagingProvider = e.CPAAS_API_URL ? "cpaas" : "simulator";
  const providers = { RCS: e.RCS_PROVIDER ?? defaultProvider, SMS: e.SMS_PROVIDER ?? defaultProvider };
  const uses = (provider: MessagingProvider) => providers.RCS === provider || providers.SMS === provider;
  if (uses("cpaas") && !e.CPAAS_API_URL) throw new ConfigError("the cpaas provider needs CPAAS_API_URL");
  if (uses("twilio") && !(e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN)) {
    throw new ConfigError("the twilio provider needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN");
  }
  const vonageAuth = e.VONAGE_APPLICATION_ID && e.VONAGE_PRIVATE_KEY
    ? { applicationId: e.VONAGE_APPLICATION_ID, privateKey: e.VONAGE_PRIVATE_KEY }
    : e.VONAGE_API_KEY && e.VONAGE_API_SECRET
      ? { apiKey: e.VONAGE_API_KEY, apiSecret: e.VONAGE_API_SECRET }
      : undefined;
  if (e.S3_BUCKET && !(e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY)) throw new ConfigError("S3_BUCKET needs S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY");
  if (uses("vonage") && !vonageAuth) {
    throw new ConfigError("the vonage provider needs VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY, or VONAGE_API_KEY and VONAGE_API_SECRET");
  }

  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databaseReadUrl: e.DATABASE_READ_URL,
    redisUrl: e.REDIS_URL,
    redisClusterUrls: e.REDIS_CLUSTER_URLS,
    auth: {
      audience: e.AUTH_AUDIENCE,
      jwtSecret: e.AUTH_JWT_SECRET ?? (e.AUTH_JWKS_URL ? undefined : stored?.apiTokenSecret),
      jwksUrl: e.AUTH_JWKS_URL,
      maxTokenTtlSeconds: e.AUTH_MAX_TOKEN_TTL,
    },
    cpaas: e.CPAAS_API_URL ? { apiUrl: e.CPAAS_API_URL, token: e.CPAAS_TOKEN } : undefined,
    providers,
    twilio:
      e.TWILIO_ACCOUNT_SID && e.TWILIO_AUTH_TOKEN
        ? {
            accountSid: e.TWILIO_ACCOUNT_SID,
            authToken: e.TWILIO_AUTH_TOKEN,
            from: e.TWILIO_FROM,
            messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID,
            rcsSender: e.TWILIO_RCS_SENDER,
            contentSid: e.TWILIO_CONTENT_SID,
          }
        : undefined,
    vonage: vonageAuth ? { auth: vonageAuth, smsFrom: e.VONAGE_SMS_FROM, rcsFrom: e.VONAGE_RCS_FROM, baseUrl: e.VONAGE_API_URL } : undefined,
    webhookSecrets: {
      generic: e.WEBHOOK_GENERIC_SECRET ?? (inventGenericSecret ? stored?.genericWebhookSecret : undefined),
      enablexBasic: e.WEBHOOK_ENABLEX_BASIC,
      standard: e.WEBHOOK_STANDARD_SECRET,
      // Twilio signs receipts with the account's Auth Token, whichever adapter sends.
      twilioAuthToken: e.TWILIO_AUTH_TOKEN,
      vonageSignatureSecret: e.VONAGE_SIGNATURE_SECRET,
      rbmClientToken: e.WEBHOOK_RBM_CLIENT_TOKEN,
      sinchSecret: e.WEBHOOK_SINCH_SECRET,
      infobipBasic: e.WEBHOOK_INFOBIP_BASIC,
      sendgridPublicKey: e.WEBHOOK_SENDGRID_PUBLIC_KEY,
      mailgunSigningKey: e.WEBHOOK_MAILGUN_SIGNING_KEY,
      sesTopicArn: e.WEBHOOK_SES_TOPIC_ARN,
    },
    snsCertificates: e.SNS_CERTIFICATES,
    trustProxy: e.TRUST_PROXY,
    // Without a trailing slash: links and webhook URLs (which Twilio signs) append their own path.
    publicBaseUrl: e.PUBLIC_BASE_URL?.replace(/\/+$/, ""),
    downloadUrlTemplate: e.DOWNLOAD_URL_TEMPLATE,
    storageRegion: e.STORAGE_REGION,
    s3: e.S3_BUCKET
      ? {
          bucket: e.S3_BUCKET,
          region: e.S3_REGION ?? e.STORAGE_REGION ?? "us-east-1",
          endpoint: e.S3_ENDPOINT,
          accessKeyId: e.S3_ACCESS_KEY_ID!,
          secretAccessKey: e.S3_SECRET_ACCESS_KEY!,
          keyPrefix: e.S3_KEY_PREFIX,
        }
      : undefined,
    signingKeys: e.SIGNING_KEY ? parseSigningKeys(e.SIGNING_KEY) : [stored!.signingKey],
    secretsKey: e.SECRETS_KEY ?? (inventSecretsKey ? stored?.secretsKey : undefined),
    smtpUrl: e.SMTP_URL,
    emailFrom: e.EMAIL_FROM,
    logLevel: e.LOG_LEVEL,
    introspection: e.GRAPHQL_INTROSPECTION,
    graphqlLimits: {
      maxCost: e.GRAPHQL_MAX_COST,
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxRootFields: e.GRAPHQL_MAX_ROOT_FIELDS,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
    },
    graphqlBodyLimit: e.GRAPHQL_BODY_LIMIT,
    rateLimits: { mutations: e.RATE_LIMIT_MUTATIONS, authFailures: e.RATE_LIMIT_AUTH_FAILURES, recipient: e.RATE_LIMIT_RECIPIENT, webhookSource: e.WEBHOOK_RATE_LIMIT },
    webSocketLimits: {
      maxSubscriptionsPerSocket: e.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      maxSocketsPerTenant: e.WS_MAX_SOCKETS_PER_TENANT,
      maxBufferedUpdates: e.WS_MAX_BUFFERED_UPDATES,
    },
    development: e.NODE_ENV === "development",
    simulatorStepMs: e.SIMULATOR_STEP_MS,
    role: e.ROLE,
    dataDir: e.DATA_DIR,
    dispatchMaxAttempts: e.DISPATCH_MAX_ATTEMPTS,
    dispatchLeaseMs: e.DISPATCH_LEASE_MS,
    dispatchRateLimits: e.DISPATCH_RATE_LIMITS,
    webhookBodyLimit: e.WEBHOOK_BODY_LIMIT,
    webhookLogRetentionDays: e.WEBHOOK_LOG_RETENTION_DAYS,
    receiptBacklogLimit: e.RECEIPT_BACKLOG_LIMIT,
    databaseTimeouts: { connectMs: e.DATABASE_CONNECT_TIMEOUT_MS, requestMs: e.DATABASE_REQUEST_TIMEOUT_MS, statementMs: e.DATABASE_STATEMENT_TIMEOUT_MS },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    generatedAuthSecret: !authConfigured,
  };
}
