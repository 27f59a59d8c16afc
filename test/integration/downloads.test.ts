import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateTransferDocument, GetTransferDocument, RecordDownloadDocument, RevokeTransferDocument } from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { errorCodes, graphql } from "../helpers/graphql.js";
import { legacyLink, TEST_SIGNING_KEY } from "../helpers/links.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { history } from "../helpers/transfers.js";
import { uniqueTenant } from "../helpers/wait.js";

const FILES = "https://files.example.com/transfers/{transferId}";

describe("downloads: the old /t/ signed links and recordDownload", () => {
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let server: TestServer;
  let token: string;
  let phoneCounter = 7000;

  const create = async (fileName = "contract.pdf", as = token) => {
    const input = { recipient: { phone: `+1416555${phoneCounter++}` }, fileName, fileSizeBytes: 2_500_000, senderName: "Acme Legal" };
    const created = await graphql(server.url, CreateTransferDocument, { input }, as);
    expect(created.body.errors).toBeUndefined();
    return created.body.data!.createTransfer;
  };
  /** The link notifications carried before short links (they keep working until they expire). */
  const linkOf = (transferId: string) => legacyLink(server.url, transferId);
  const open = (link: URL | string, init?: RequestInit) => fetch(link, { redirect: "manual", ...init });
  const download = (link: URL | string) =>
    open(link, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": "phone-browser/1.0" }, body: "" });
  const downloads = async (transferId: string) => (await history(server, token, transferId)).filter((event) => event.event === "DOWNLOADED");
  const statusOf = async (transferId: string) => (await graphql(server.url, GetTransferDocument, { id: transferId }, token)).body.data!.transfer!.status;

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, DOWNLOAD_URL_TEMPLATE: FILES, SIGNING_KEY: TEST_SIGNING_KEY } });
    token = await tokenFor(uniqueTenant("download"));
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
  });

  describe("succeeding", () => {
    it("the link in the notification opens a page about the file, and opening it records nothing", async () => {
      const transfer = await create("<b>Q4</b> & ledger.pdf");
      const link = await linkOf(transfer.id);
      expect(link.pathname).toBe(`/t/${transfer.id}`);
      const landing = await open(link);
      expect(landing.status).toBe(200);
      expect(landing.headers.get("content-type")).toMatch(/^text\/html/);
      const page = await landing.text();
      expect(page).toContain("&lt;b&gt;Q4&lt;/b&gt; &amp; ledger.pdf");
      expect(page).not.toContain("<b>Q4</b>");
      expect(page).toContain('method="post"');
      // A link preview or a mail scanner fetching the link is not the recipient downloading.
      expect(await downloads(transfer.id)).toEqual([]);
      expect(await statusOf(transfer.id)).not.toBe("DOWNLOADED");
    });

    it("the Download button records the download and sends the recipient on to the file", async () => {
      const transfer = await create();
      const link = await linkOf(transfer.id);
      const response = await download(link);
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe(FILES.replace("{transferId}", transfer.id));
      expect(await statusOf(transfer.id)).toBe("DOWNLOADED");
      const [event] = await downloads(transfer.id);
      expect(event).toMatchObject({ event: "DOWNLOADED", source: "gateway", provider: "ackline", messageId: null });
      expect(event!.metadata).toMatchObject({ user_agent: "phone-browser/1.0" });
    });

    it("recordDownload marks the transfer DOWNLOADED once per idempotency key; the first download's time stands", async () => {
      const transfer = await create();
      const first = "2026-01-02T03:04:05.678Z";
      const recorded = await graphql(server.url, RecordDownloadDocument, { input: { transferId: transfer.id, downloadedAt: first, idempotencyKey: "storage-evt-1" } }, token);
      expect(recorded.body.errors).toBeUndefined();
      expect(recorded.body.data!.recordDownload).toMatchObject({ status: "DOWNLOADED", downloadedAt: first });
      const again = await graphql(server.url, RecordDownloadDocument, { input: { transferId: transfer.id, downloadedAt: first, idempotencyKey: "storage-evt-1" } }, token);
      expect(again.body.data!.recordDownload.status).toBe("DOWNLOADED");
      await graphql(server.url, RecordDownloadDocument, { input: { transferId: transfer.id, idempotencyKey: "storage-evt-2" } }, token);

      const events = await downloads(transfer.id);
      expect(events.map((event) => [event.timestamp === first, event.source])).toEqual([
        [true, "api"],
        [false, "api"],
      ]);
      expect(typeof events[0]!.metadata.recorded_by).toBe("string");
    });
  });

  describe("failing", () => {
    it("a missing, tampered or borrowed token is 403 and records nothing", async () => {
      const [transfer, other] = [await create(), await create()];
      const link = await linkOf(transfer.id);
      const otherLink = await linkOf(other.id);
      const tampered = new URL(link);
      tampered.searchParams.set("tok", `${link.searchParams.get("tok")!.slice(0, -4)}AAAA`);
      const borrowed = new URL(link);
      borrowed.searchParams.set("tok", otherLink.searchParams.get("tok")!);
      const missing = new URL(link);
      missing.search = "";
      for (const bad of [tampered, borrowed, missing]) {
        expect((await open(bad)).status).toBe(403);
        expect((await download(bad)).status).toBe(403);
      }
      expect(await downloads(transfer.id)).toEqual([]);
    });

    it("a revoked transfer's link is 410 Gone, and nothing is recorded", async () => {
      const transfer = await create();
      const link = await linkOf(transfer.id);
      await graphql(server.url, RevokeTransferDocument, { id: transfer.id }, token);
      const landing = await open(link);
      expect(landing.status).toBe(410);
      expect(await landing.text()).toContain("withdrawn");
      expect((await download(link)).status).toBe(410);
      expect(await downloads(transfer.id)).toEqual([]);
    });

    it("recordDownload: NOT_FOUND for another tenant's transfer, CONFLICT when revoked, BAD_USER_INPUT in the future, FORBIDDEN read-only", async () => {
      const transfer = await create();
      const stranger = await tokenFor(uniqueTenant("download"));
      expect(errorCodes((await graphql(server.url, RecordDownloadDocument, { input: { transferId: transfer.id } }, stranger)).body)).toEqual(["NOT_FOUND"]);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      const early = await graphql(server.url, RecordDownloadDocument, { input: { transferId: transfer.id, downloadedAt: future } }, token);
      expect(errorCodes(early.body)).toEqual(["BAD_USER_INPUT"]);
      const readOnly = await tokenFor(uniqueTenant("download"), { scopes: ["transfers:read"] });
      expect(errorCodes((await graphql(server.url, RecordDownloadDocument, { input: { transferId: transfer.id } }, readOnly)).body)).toEqual(["FORBIDDEN"]);
      await graphql(server.url, RevokeTransferDocument, { id: transfer.id }, token);
      expect(errorCodes((await graphql(server.url, RecordDownloadDocument, { input: { transferId: transfer.id } }, token)).body)).toEqual(["CONFLICT"]);
      expect(await downloads(transfer.id)).toEqual([]);
    });
  });
});
