import { createRemoteJWKSet, errors, jwtVerify, SignJWT, type JWTVerifyGetKey } from "jose";
import type { Config } from "../config.js";
import { DomainError } from "../domain/errors.js";

export const SCOPES = ["transfers:write", "transfers:read", "receipts:read", "webhooks:admin", "audit:read"] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling: every row they see belongs to `tenantId`. */
export interface Principal {
  tenantId: string;
  subject: string;
  scopes: ReadonlySet<string>;
  /** Seconds since the epoch; graphql-ws closes the socket then. */
  expiresAt: number;
}

/** Clocks may disagree by this much: a token issued up to a minute "in the future" is still taken. */
export const CLOCK_SKEW_SECONDS = 60;

export interface AccessTokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** Accepts `Bearer <jwt>` or the bare token, as graphql-ws clients send either. */
export function extractBearer(value: unknown): string | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(value.trim());
  return match ? match[1] : value.trim();
}

export function createAccessTokenVerifier(auth: Config["auth"]): AccessTokenVerifier {
  const key: Uint8Array | JWTVerifyGetKey = auth.jwksUrl
    ? createRemoteJWKSet(new URL(auth.jwksUrl))
    : new TextEncoder().encode(auth.jwtSecret);
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key as Uint8Array, {
          audience: auth.audience,
          requiredClaims: ["exp"],
          algorithms: auth.jwksUrl ? undefined : ["HS256"],
        });
        if (typeof payload.tenant_id !== "string" || payload.tenant_id === "") {
          throw new DomainError("UNAUTHENTICATED", "access token has no tenant_id claim");
        }
        checkLifetime(payload.exp!, payload.iat, auth.maxTokenTtlSeconds);
        return {
          tenantId: payload.tenant_id,
          subject: payload.sub ?? payload.tenant_id,
          scopes: new Set(typeof payload.scope === "string" ? payload.scope.split(" ").filter(Boolean) : []),
          expiresAt: payload.exp!,
        };
      } catch (error) {
        if (error instanceof DomainError) throw error;
        const reason = error instanceof errors.JWTExpired ? "access token expired" : "invalid access token";
        throw new DomainError("UNAUTHENTICATED", reason);
      }
    },
  };
}

/**
 * A token may live at most `maxTtlSeconds`, counted from `iat` (or from now when it has none), so
 * a leaked one cannot stay useful for years; and it cannot be issued in the future.
 */
function checkLifetime(exp: number, iat: number | undefined, maxTtlSeconds: number): void {
  const now = Math.floor(Date.now() / 1000);
  if (iat !== undefined && iat > now + CLOCK_SKEW_SECONDS) {
    throw new DomainError("UNAUTHENTICATED", "access token is issued in the future");
  }
  if (exp - (iat ?? now) > maxTtlSeconds) {
    throw new DomainError("UNAUTHENTICATED", `access token lives longer than the ${maxTtlSeconds} s allowed`);
  }
}

/** Mints an HS256 access token; used for the embedded development token and by tests. */
export function signAccessToken(
  secret: string,
  claims: { tenantId: string; scopes: readonly string[]; audience: string; subject?: string; expiresIn?: string | number },
): Promise<string> {
  return new SignJWT({ tenant_id: claims.tenantId, scope: claims.scopes.join(" ") })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.subject ?? `dev@${claims.tenantId}`)
    .setAudience(claims.audience)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? "24h")
    .sign(new TextEncoder().encode(secret));
}

/**
 * Embedded mode's development token: tenant `demo`, every scope, 24 h. Only where Ackline invented
 * the API token secret itself; undefined once auth is configured.
 */
export async function developmentToken(config: Pick<Config, "generatedAuthSecret" | "auth">): Promise<string | undefined> {
  if (!config.generatedAuthSecret || !config.auth.jwtSecret) return undefined;
  return signAccessToken(config.auth.jwtSecret, { tenantId: "demo", scopes: SCOPES, audience: config.auth.audience });
}
