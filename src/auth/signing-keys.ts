import { calculateJwkThumbprint, createLocalJWKSet, importJWK, type JWK, jwtVerify, SignJWT } from "jose";
import { LinkCodes } from "./link-codes.js";

/** What a recipient's link lets its holder do. */
export type LinkScope = "download" | "unsubscribe" | "file";

/**
 * Ackline's own Ed25519 keys (never the API token secret): the first signs, all are published at
 * `/.well-known/jwks.json`, so a rotated-out key still verifies what it signed.
 */
export class SigningKeys {
  /** Every published key: what verifies Ackline's signatures, old ones included. */
  readonly publicKeys: ReturnType<typeof createLocalJWKSet>;

  private constructor(
    /** The key that signs now (the first), with its kid. */
    readonly signer: { key: Awaited<ReturnType<typeof importJWK>>; kid: string },
    readonly jwks: { keys: JWK[] },
    /** Short link codes, MACed with keys derived from these signing keys. */
    readonly linkCodes: LinkCodes,
  ) {
    this.publicKeys = createLocalJWKSet(jwks);
  }

  /** The signing key as a person can check it against the JWKS: its kid and RFC 7638 SHA-256 thumbprint. */
  async fingerprint(): Promise<{ kid: string; thumbprint: string }> {
    const published = this.jwks.keys.find((key) => key.kid === this.signer.kid)!;
    return { kid: this.signer.kid, thumbprint: await calculateJwkThumbprint(published, "sha256") };
  }

  static async load(privateJwks: JWK[]): Promise<SigningKeys> {
    const [first] = privateJwks;
    if (!first?.kid) throw new Error("at least one signing key with a kid is required");
    const key = await importJWK({ ...first, alg: "EdDSA" }, "EdDSA");
    const publicKeys = privateJwks.map(({ kty, crv, x, kid }) => ({ kty, crv, x, kid, alg: "EdDSA", use: "sig" }));
    return new SigningKeys({ key, kid: first.kid }, { keys: publicKeys }, LinkCodes.fromSigningSecrets(privateJwks.map((jwk) => jwk.d ?? "")));
  }

  /** The key id that signs now (the one a recipient can look up in the JWKS). */
  get kid(): string {
    return this.signer.kid;
  }

  /**
   * What a link token names (a transfer for `download`, a message for `unsubscribe`), if it was
   * signed here for that use; throws jose's errors (`JWTExpired` once it has expired) otherwise.
   */
  async verifyLinkToken(token: string, scope: LinkScope = "download"): Promise<string> {
    const { payload } = await jwtVerify(token, this.publicKeys, { algorithms: ["EdDSA"], requiredClaims: ["sub", "exp"] });
    if (payload.scope !== scope || !payload.sub) throw new Error(`not a ${scope} link token`);
    return payload.sub;
  }

  /** A link token for one use on one subject, valid until `expiresAt` (a download link: the transfer's expiry). */
  signLinkToken(subject: string, expiresAt: Date, scope: LinkScope = "download"): Promise<string> {
    return new SignJWT({ scope })
      .setProtectedHeader({ alg: "EdDSA", kid: this.signer.kid, typ: "JWT" })
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.signer.key);
  }
}
