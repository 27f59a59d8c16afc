import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";

/** What a short link is bound to. */
export interface LinkBinding {
  messageId: string;
  transferId: string;
  channel: string;
}

/** A short link's code taken apart, before its MAC is checked against the message it names. */
export interface DecodedLinkCode {
  messageId: string;
  expiresAt: Date;
  /** True when the code was issued here for exactly this message, transfer and channel (any key still held). */
  boundTo(binding: LinkBinding): boolean;
}

const ID_BYTES = 12;
const EXPIRY_BYTES = 4;
const MAC_BYTES = 8;
const CODE_BYTES = ID_BYTES + EXPIRY_BYTES + MAC_BYTES;
const MESSAGE_ID = /^msg_([A-Za-z0-9_-]{16})$/;

/**
 * Short link codes: the message id's 96 random bits, the link's expiry (seconds), and a 64-bit
 * HMAC-SHA256 over message, transfer, channel and expiry — 24 bytes, 32 URL-safe characters. A
 * code cannot be guessed (a random id plus a MAC), names its expiry, and cannot be moved to another
 * message, transfer or channel. The MAC keys are derived from Ackline's signing keys: the first
 * issues, every one verifies, so a rotated-out key's links keep working until they expire.
 */
export class LinkCodes {
  constructor(private readonly keys: Buffer[]) {
    if (keys.length === 0) throw new Error("at least one link key is required");
  }

  /** One MAC key per Ed25519 private key (its `d`), for this use only. */
  static fromSigningSecrets(secrets: string[]): LinkCodes {
    return new LinkCodes(secrets.map((d) => Buffer.from(hkdfSync("sha256", Buffer.from(d, "base64url"), Buffer.alloc(0), "ackline short link code", 32))));
  }

  issue(binding: LinkBinding, expiresAt: Date): string {
    const id = MESSAGE_ID.exec(binding.messageId)?.[1];
    if (!id) throw new Error(`cannot issue a short link for message id ${binding.messageId}`);
    const expiry = Buffer.alloc(EXPIRY_BYTES);
    expiry.writeUInt32BE(Math.floor(expiresAt.getTime() / 1000));
    const head = Buffer.concat([Buffer.from(id, "base64url"), expiry]);
    return Buffer.concat([head, mac(this.keys[0]!, binding, head)]).toString("base64url");
  }

  /** The code's parts, or undefined when it is not a code at all (wrong length or alphabet). */
  decode(code: string): DecodedLinkCode | undefined {
    if (!/^[A-Za-z0-9_-]{32}$/.test(code)) return undefined;
    const bytes = Buffer.from(code, "base64url");
    if (bytes.length !== CODE_BYTES) return undefined;
    const head = bytes.subarray(0, ID_BYTES + EXPIRY_BYTES);
    const given = bytes.subarray(ID_BYTES + EXPIRY_BYTES);
    return {
      messageId: `msg_${bytes.subarray(0, ID_BYTES).toString("base64url")}`,
      expiresAt: new Date(bytes.readUInt32BE(ID_BYTES) * 1000),
      boundTo: (binding) => this.keys.some((key) => timingSafeEqual(mac(key, binding, head), given)),
    };
  }
}

function mac(key: Buffer, binding: LinkBinding, head: Buffer): Buffer {
  return createHmac("sha256", key)
    .update(`${binding.messageId}\n${binding.transferId}\n${binding.channel}\n`)
    .update(head)
    .digest()
    .subarray(0, MAC_BYTES);
}
