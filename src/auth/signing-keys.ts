import { createLocalJWKSet, importJWK, type JWK, jwtVerify, SignJWT } from "jose";

/**
 * Ackline's own Ed25519 keys (never the API token secret): the first signs, all are published at
 * `/.well-known/jwks.json`, so a rotated-out key still verifies what it signed.
 */
export class SigningKeys {
  private readonly publicKeys: ReturnType<typeof createLocalJWKSet>;

  private constructor(
    private readonly signer: { key: Awaited<ReturnType<typeof importJWK>>; kid: string },
    readonly jwks: { keys: JWK[] },
  ) {
    this.publicKeys = createLocalJWKSet(jwks);
  }

  static async load(privateJwks: JWK[]): Promise<SigningKeys> {
    const [first] = privateJwks;
    if (!first?.kid) throw new Error("at least one signing key with a kid is required");
    const key = await importJWK({ ...first, alg: "EdDSA" }, "EdDSA");
    const publicKeys = privateJwks.map(({ kty, crv, x, kid }) => ({ kty, crv, x, kid, alg: "EdDSA", use: "sig" }));
    return new SigningKeys({ key, kid: first.kid }, { keys: publicKeys });
  }

  /**
   * The transfer a download-link token names; throws jose's errors (`JWTExpired` once the
   * transfer has expired) for anything else.
   */
  async verifyLinkToken(token: string): Promise<string> {
    const { payload } = await jwtVerify(token, this.publicKeys, { algorithms: ["EdDSA"], requiredClaims: ["sub", "exp"] });
    if (payload.scope !== "download" || !payload.sub) throw new Error("not a download-link token");
    return payload.sub;
  }

  /** A download-link token scoped to one transfer, valid until the transfer expires. */
  signLinkToken(transferId: string, expiresAt: Date): Promise<string> {
    return new SignJWT({ scope: "download" })
      .setProtectedHeader({ alg: "EdDSA", kid: this.signer.kid, typ: "JWT" })
      .setSubject(transferId)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(this.signer.key);
  }
}
