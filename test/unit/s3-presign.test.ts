import { describe, expect, it } from "vitest";
import { presignS3Get, s3Origin } from "../../src/storage/s3-presign.js";

/** AWS's own example (Authenticating Requests: Using Query Parameters, SigV4): its documented signature. */
const AWS_EXAMPLE = {
  bucket: "examplebucket",
  region: "us-east-1",
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  keyPrefix: "",
};

describe("S3 presigned download URLs (offline: no request is made)", () => {
  it("reproduce AWS's documented example signature exactly", async () => {
    const url = new URL(await presignS3Get(AWS_EXAMPLE, "test.txt", { expiresSeconds: 86400, now: new Date("2013-05-24T00:00:00Z") }));
    expect(`${url.origin}${url.pathname}`).toBe("https://examplebucket.s3.amazonaws.com/test.txt");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
      "X-Amz-Date": "20130524T000000Z",
      "X-Amz-Expires": "86400",
      "X-Amz-SignedHeaders": "host",
      "X-Amz-Signature": "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
    });
  });

  it("name the file as an attachment, and a custom endpoint gets path-style URLs in its region", async () => {
    const minio = { ...AWS_EXAMPLE, region: "eu-central-1", endpoint: "https://minio.example.com:9000/", keyPrefix: "transfers/" };
    const url = new URL(await presignS3Get(minio, "transfers/tx_1", { expiresSeconds: 300, downloadName: 'q4 "final".zip' }));
    expect(`${url.origin}${url.pathname}`).toBe("https://minio.example.com:9000/examplebucket/transfers/tx_1");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("300");
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(/^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-central-1\/s3\/aws4_request$/);
    expect(url.searchParams.get("response-content-disposition")).toBe('attachment; filename="q4 _final_.zip"');
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    expect(s3Origin(minio)).toBe("https://minio.example.com:9000");
    expect(s3Origin({ ...AWS_EXAMPLE, region: "eu-west-3" })).toBe("https://examplebucket.s3.eu-west-3.amazonaws.com");
  });
});
