import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postForm } from "../helpers/links.js";
import { type ProofFixture, startProofFixture } from "../helpers/proof.js";
import { tokenFor } from "../helpers/server.js";
import { uniqueTenant } from "../helpers/wait.js";

describe("embedded file storage: PUT /files/<transfer id> checked against fileSha256, streamed after the download", () => {
  let proof: ProofFixture;
  const file = randomBytes(64 * 1024 + 7);
  const sha256 = createHash("sha256").update(file).digest("hex");

  beforeAll(async () => {
    proof = await startProofFixture();
  });
  afterAll(async () => {
    await proof?.close();
  });

  const put = (transferId: string, body: Uint8Array, token: string | null = proof.token) =>
    fetch(`${proof.server.url}/files/${transferId}`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });

  it("the uploaded file is what the recorded download streams, byte for byte", async () => {
    const transfer = await proof.create({ fileName: "q4 report.zip", fileSizeBytes: file.length, fileSha256: sha256.toUpperCase() });
    expect(transfer.fileSha256).toBe(sha256);
    const stored = await put(transfer.id, file);
    expect(stored.status).toBe(201);
    expect(await stored.json()).toEqual({ transferId: transfer.id, sha256, bytes: file.length });

    const clicked = await postForm(await proof.linkOf(transfer.id));
    expect(clicked.status).toBe(303);
    const location = new URL(clicked.headers.get("location")!, proof.server.url);
    expect(location.pathname).toBe(`/files/${transfer.id}`);
    const served = await fetch(location);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-disposition")).toContain('filename="q4 report.zip"');
    expect(Buffer.from(await served.arrayBuffer()).equals(file)).toBe(true);
    expect(await proof.events(transfer.id, "DOWNLOADED")).toHaveLength(1);
    expect((await proof.audit(transfer.id)).map((entry) => entry.action)).toContain("file.upload");
  });

  it("a file whose SHA-256 differs is refused (422) and nothing is kept; a file not uploaded is never counted as downloaded", async () => {
    const transfer = await proof.create({ fileSizeBytes: file.length, fileSha256: sha256 });
    const tampered = Buffer.from(file);
    tampered.writeUInt8(tampered.readUInt8(100) ^ 1, 100);
    const refused = await put(transfer.id, tampered);
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: string }).error).toContain("fileSha256");
    const clicked = await postForm(await proof.linkOf(transfer.id));
    expect(clicked.status).toBe(404);
    expect(await clicked.text()).toContain("not uploaded the file yet");
    expect(await proof.events(transfer.id, "DOWNLOADED")).toEqual([]);
    expect((await proof.audit(transfer.id)).find((entry) => entry.action === "file.upload_refused")?.details).toMatchObject({ reason: "mismatch" });
  });

  it("uploads need a token with transfers:write, the tenant's own transfer, a declared fileSha256 and at most fileSizeBytes", async () => {
    const transfer = await proof.create({ fileSizeBytes: file.length, fileSha256: sha256 });
    expect((await put(transfer.id, file, null)).status).toBe(401);
    expect((await put(transfer.id, file, "not-a-token")).status).toBe(401);
    expect((await put(transfer.id, file, await tokenFor(uniqueTenant("reader"), { scopes: ["transfers:read"] }))).status).toBe(403);
    expect((await put(transfer.id, file, await tokenFor(uniqueTenant("stranger")))).status).toBe(404);
    const undeclared = await proof.create({ fileSizeBytes: file.length });
    expect((await put(undeclared.id, file)).status).toBe(409);
    const small = await proof.create({ fileSizeBytes: 10, fileSha256: sha256 });
    expect((await put(small.id, file)).status).toBe(422);
  });

  it("the file URL is signed: without its token, or with another transfer's, nothing is served", async () => {
    const transfer = await proof.create({ fileSizeBytes: file.length, fileSha256: sha256 });
    expect((await put(transfer.id, file)).status).toBe(201);
    expect((await fetch(`${proof.server.url}/files/${transfer.id}`)).status).toBe(403);
    const other = await proof.create({ fileSizeBytes: file.length, fileSha256: sha256 });
    expect((await put(other.id, file)).status).toBe(201);
    const otherUrl = new URL((await postForm(await proof.linkOf(other.id))).headers.get("location")!, proof.server.url);
    expect((await fetch(`${proof.server.url}/files/${transfer.id}?tok=${otherUrl.searchParams.get("tok")}`)).status).toBe(403);
  });
});
