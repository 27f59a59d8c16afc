import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { transfers } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import type { Caller } from "./caller.js";
import { DomainError } from "./errors.js";

/** What an upload must be: exactly the declared SHA-256, no larger than the declared size. */
export interface UploadCheck {
  sha256: string;
  maxBytes: number;
}

export interface StoredFile {
  sha256: string;
  bytes: number;
}

/** Where uploaded files are kept (embedded: `DATA_DIR/files`). */
export interface FileStore {
  write(transferId: string, body: NodeJS.ReadableStream, check: UploadCheck): Promise<StoredFile | { refused: "too_large" | "mismatch"; sha256?: string }>;
}

/**
 * `PUT /files/<transfer id>`: the sender uploads the file to the embedded store. It must match the
 * transfer's `fileSha256` (else nothing is kept) and its `fileSizeBytes` at most; audited.
 */
export class FileUploadService {
  constructor(private readonly deps: { db: Database; files: FileStore }) {}

  async upload(caller: Caller, transferId: string, body: NodeJS.ReadableStream, now = new Date()): Promise<StoredFile> {
    const [transfer] = await this.deps.db
      .select()
      .from(transfers)
      .where(and(eq(transfers.id, transferId), eq(transfers.tenantId, caller.principal.tenantId)));
    if (!transfer) throw new DomainError("NOT_FOUND", `transfer ${transferId} not found`);
    if (transfer.revokedAt) throw new DomainError("CONFLICT", "the transfer is revoked", { transferId });
    if (!transfer.fileSha256) throw new DomainError("FAILED_PRECONDITION", "the transfer declares no fileSha256 to check the upload against", { transferId });
    const stored = await this.deps.files.write(transferId, body, { sha256: transfer.fileSha256, maxBytes: transfer.fileSizeBytes });
    if ("refused" in stored) {
      const refusal =
        stored.refused === "mismatch"
          ? new DomainError("BAD_USER_INPUT", `the upload's SHA-256 is ${stored.sha256}, not the transfer's fileSha256 ${transfer.fileSha256}`, { field: "fileSha256" })
          : new DomainError("BAD_USER_INPUT", `the upload is larger than the transfer's fileSizeBytes (${transfer.fileSizeBytes})`, { field: "fileSizeBytes" });
      await this.deps.db.transaction((tx) => recordAudit(tx, caller, "file.upload_refused", transferId, { reason: stored.refused, sha256: stored.sha256 ?? null }, now));
      throw refusal;
    }
    await this.deps.db.transaction((tx) => recordAudit(tx, caller, "file.upload", transferId, { ...stored }, now));
    return stored;
  }
}
