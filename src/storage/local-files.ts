import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { FileStore, StoredFile, UploadCheck } from "../domain/file-upload.service.js";

/** Transfer ids are `tx_` and URL-safe base64: nothing else names a file here. */
const TRANSFER_ID = /^tx_[A-Za-z0-9_-]{1,64}$/;

/**
 * The embedded file store: one file per transfer under `DATA_DIR/files`. An upload is written
 * beside it while hashed, and takes its place only when its SHA-256 matches what the transfer
 * declares, so a half-written or wrong file is never served.
 */
export class LocalFiles implements FileStore {
  constructor(private readonly directory: string) {}

  private pathOf(transferId: string): string {
    if (!TRANSFER_ID.test(transferId)) throw new Error(`not a transfer id: ${transferId}`);
    return path.join(this.directory, transferId);
  }

  async write(transferId: string, body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream, check: UploadCheck): Promise<StoredFile | { refused: "too_large" | "mismatch"; sha256?: string }> {
    await mkdir(this.directory, { recursive: true });
    const target = this.pathOf(transferId);
    const partial = `${target}.${randomBytes(6).toString("hex")}.part`;
    const hash = createHash("sha256");
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes > check.maxBytes) return done(new UploadTooLarge());
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(partial, { flags: "wx" }));
    } catch (error) {
      await rm(partial, { force: true });
      if (error instanceof UploadTooLarge) return { refused: "too_large" };
      throw error;
    }
    const sha256 = hash.digest("hex");
    if (sha256 !== check.sha256) {
      await rm(partial, { force: true });
      return { refused: "mismatch", sha256 };
    }
    await rename(partial, target);
    return { sha256, bytes };
  }

  /** The stored file's size, or undefined when none was uploaded. */
  async sizeOf(transferId: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(transferId))).size;
    } catch {
      return undefined;
    }
  }

  read(transferId: string): NodeJS.ReadableStream {
    return createReadStream(this.pathOf(transferId));
  }
}

class UploadTooLarge extends Error {}
