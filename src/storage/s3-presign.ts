import { AwsV4Signer } from "aws4fetch";
import type { S3Location } from "../config.js";

export type { S3Location };

/** `YYYYMMDDTHHMMSSZ`, SigV4's time format. */
const amzDate = (at: Date) => at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");

function objectUrl(s3: S3Location, key: string): URL {
  const path = key.split("/").map(encodeURIComponent).join("/");
  if (s3.endpoint) return new URL(`${s3.endpoint.replace(/\/+$/, "")}/${encodeURIComponent(s3.bucket)}/${path}`);
  const host = s3.region === "us-east-1" ? "s3.amazonaws.com" : `s3.${s3.region}.amazonaws.com`;
  return new URL(`https://${s3.bucket}.${host}/${path}`);
}

/** The origin presigned URLs point at (the pages' form-action must allow the redirect there). */
export const s3Origin = (s3: S3Location) => objectUrl(s3, "_").origin;

/**
 * A presigned GET (SigV4 in the query string) for one object, valid `expiresSeconds` from `now`;
 * `downloadName` asks the store to serve it as an attachment of that name. No request is made.
 */
export async function presignS3Get(s3: S3Location, key: string, options: { expiresSeconds: number; now?: Date; downloadName?: string }): Promise<string> {
  const url = objectUrl(s3, key);
  url.searchParams.set("X-Amz-Expires", String(options.expiresSeconds));
  if (options.downloadName) url.searchParams.set("response-content-disposition", `attachment; filename="${options.downloadName.replace(/["\\\r\n]/g, "_")}"`);
  const signer = new AwsV4Signer({
    method: "GET",
    url: url.toString(),
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    service: "s3",
    region: s3.region,
    datetime: amzDate(options.now ?? new Date()),
    signQuery: true,
  });
  return (await signer.sign()).url.toString();
}
