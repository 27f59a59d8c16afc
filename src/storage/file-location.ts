import type { SigningKeys } from "../auth/signing-keys.js";
import type { TransferRecord } from "../domain/model.js";
import type { LocalFiles } from "./local-files.js";
import { presignS3Get, type S3Location } from "./s3-presign.js";

/** How long the URL a download is sent on to works: a presigned S3 URL, or a signed local one. */
export const FILE_URL_TTL_SECONDS = 300;

/** Where a recorded download is sent (303), or undefined when the file is not there to send. */
export type FileLocator = {
  /** Checked before a download is recorded: a file that is not there must not count as downloaded. */
  available(transfer: TransferRecord): Promise<boolean>;
  urlFor(transfer: TransferRecord): Promise<string>;
};

/**
 * Where files are served from, in order: `DOWNLOAD_URL_TEMPLATE` (the partner's own storage), a
 * presigned URL of an S3-compatible bucket (`S3_BUCKET`), or the embedded store (`DATA_DIR/files`)
 * through `/files/<transfer id>?tok=<signed, five minutes>`.
 */
export function createFileLocator(options: { downloadUrlTemplate?: string; s3?: S3Location; local: LocalFiles; signingKeys: SigningKeys }): FileLocator {
  const { downloadUrlTemplate, s3, local, signingKeys } = options;
  if (downloadUrlTemplate) {
    return { available: async () => true, urlFor: async (transfer) => downloadUrlTemplate.replaceAll("{transferId}", encodeURIComponent(transfer.id)) };
  }
  if (s3) {
    return {
      available: async () => true,
      urlFor: (transfer) => presignS3Get(s3, `${s3.keyPrefix}${transfer.id}`, { expiresSeconds: FILE_URL_TTL_SECONDS, downloadName: transfer.fileName }),
    };
  }
  return {
    available: async (transfer) => (await local.sizeOf(transfer.id)) !== undefined,
    urlFor: async (transfer) => {
      const token = await signingKeys.signLinkToken(transfer.id, new Date(Date.now() + FILE_URL_TTL_SECONDS * 1000), "file");
      return `/files/${encodeURIComponent(transfer.id)}?tok=${encodeURIComponent(token)}`;
    },
  };
}
