import { importJWK, type JWK, SignJWT } from "jose";

/**
 * Ackline's own Ed25519 keys (never the API token secret): the first signs, all are published at
 * `/.well-known/jwks.json`, so a rotated-out key still verifies what it signed.
 */
export class SigningKeys {
  private constructor(
    private readonly signer: { key: Awaited<ReturnType<typeof importJWK>>; kid: string },
    readonly jwks: { keys: JWK[] },
  ) {}

  static async load(privateJwks: JWK[]): Promise<SigningKeys> {
    const [first] = privateJwks;
    if (!first?.kid) throw new Error("at least one signing key with a kid is required");
    const key = await importJWK({ ...first, alg: "EdDSA" }, "EdDSA");
    const publicKeys = privateJwks.map(({ kty, crv, x, kid }) => ({ kty, crv, x, kid, alg: "EdDSA", use: "sig" }));
    return new SigningKeys({ key, kid: first.kid }, { keys: publicKeys });
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
