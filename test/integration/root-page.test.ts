import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Ackline, createAckline } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { CreateTransferDocument } from "../generated/graphql.js";
import { graphql } from "../helpers/graphql.js";
import { preformatted } from "../helpers/html.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { runShell } from "../helpers/shell.js";

const packageVersion = async () => (JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

async function rootPage(url: string) {
  const response = await fetch(`${url}/`);
  return { response, page: await response.text() };
}

describe("GET /: the root page", () => {
  /** Auth configured, as in production. */
  let server: TestServer;
  /** Nothing configured: PGlite, generated secrets, the development token. */
  let embedded: { ackline: Ackline; url: string; dataDir: string };
  beforeAll(async () => {
    server = await startTestServer();
    const dataDir = await mkdtemp(path.join(tmpdir(), "ackline-root-"));
    const config = await loadConfig({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "silent" });
    const ackline = await createAckline(config, createLogger(config.logLevel));
    embedded = { ackline, url: await ackline.listen(), dataDir };
  });
  afterAll(async () => {
    await server?.close();
    await embedded?.ackline.close();
    if (embedded) await rm(embedded.dataDir, { recursive: true, force: true });
  });

  describe("succeeding", () => {
    it("says what the server is and its version, and links the explorer, health and metrics, every link answering", async () => {
      const { response, page } = await rootPage(server.url);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(page).toContain(`<h1>Ackline <small>${await packageVersion()}</small></h1>`);
      expect(page).not.toMatch(/<script/i);
      const links = [...page.matchAll(/<a href="([^"]+)">/g)].map((match) => match[1]!);
      expect(links).toEqual(["/graphql", "/healthz", "/readyz", "/metrics"]);
      for (const link of links) {
        // A browser asks for HTML: /graphql then answers with its explorer.
        expect((await fetch(`${server.url}${link}`, { headers: { accept: "text/html" } })).status, link).toBe(200);
      }
    });

    it("in embedded mode, shows a development token that works for every scope", async () => {
      const token = preformatted((await rootPage(embedded.url)).page, "development-token");
      expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      const input = { recipient: { email: "auditor@example.com" }, fileName: "q4.zip", fileSizeBytes: 1024, senderName: "Acme" };
      const created = await graphql(embedded.url, CreateTransferDocument, { input }, token);
      expect(created.body.errors).toBeUndefined();
      expect(created.body.data!.createTransfer.status).toBe("QUEUED");
    });

    it("in embedded mode, shows a signed test webhook that the generic door accepts as pasted into a shell", async () => {
      const command = preformatted((await rootPage(embedded.url)).page, "test-webhook");
      expect(command).toContain(embedded.url);
      const { code, stdout, stderr } = await runShell(command!, { cwd: tmpdir(), env: { PATH: process.env.PATH } });
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(stdout)).toEqual({ received: 1, stored: 1, duplicates: 0 });
    });
  });

  describe("failing", () => {
    it("with auth configured, shows no token and no way to the webhook secret", async () => {
      const { response, page } = await rootPage(server.url);
      expect(response.status).toBe(200);
      expect(page).not.toContain("development-token");
      expect(page).not.toContain("test-webhook");
      expect(page).not.toMatch(/eyJ[\w-]+\./);
    });
  });
});
