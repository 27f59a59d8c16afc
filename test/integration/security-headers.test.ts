import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { createTransfer } from "../helpers/transfers.js";
import { uniqueTenant } from "../helpers/wait.js";

const FILES = "https://files.example.com/t/{transferId}";

/** The CSP's directives by name. */
function directives(csp: string | null): Map<string, string[]> {
  return new Map((csp ?? "").split(";").map((part) => part.trim().split(/\s+/)).filter((words) => words[0]).map(([name, ...sources]) => [name!, sources]));
}

describe("security headers on the HTML pages: recipient links (/t, /u) and the root page", () => {
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let server: TestServer;
  let landingLink: string;

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, DOWNLOAD_URL_TEMPLATE: FILES } });
    const transfer = await createTransfer(server, await tokenFor(uniqueTenant("headers")), "+14165554100");
    landingLink = (await cpaas.waitForSend(transfer.id)).body.params.link;
  });
  afterAll(async () => {
    await server?.close();
    await cpaas?.close();
  });

  const pages = () => [
    ["the root page", `${server.url}/`, 200],
    ["a download link's landing page", landingLink, 200],
    ["a download link that is not valid", `${server.url}/t/tx_forged?tok=forged`, 403],
    ["an unsubscribe link that is not valid", `${server.url}/u/msg_forged?tok=forged`, 403],
  ] as const;

  it("each page may not be framed, sniffed, or run anything but its own style block", async () => {
    for (const [what, url, status] of pages()) {
      const response = await fetch(url);
      expect(response.status, what).toBe(status);
      const csp = directives(response.headers.get("content-security-policy"));
      expect(csp.get("frame-ancestors"), what).toEqual(["'none'"]);
      expect(csp.get("default-src"), what).toEqual(["'none'"]);
      expect(csp.has("script-src"), what).toBe(false);
      expect(response.headers.get("x-frame-options"), what).toBe("DENY");
      expect(response.headers.get("x-content-type-options"), what).toBe("nosniff");
      // The inline style is allowed by its hash, and it is the page's only one.
      const page = await response.text();
      const styles = [...page.matchAll(/<style>([^<]*)<\/style>/g)].map((match) => match[1]!);
      expect(styles, what).toHaveLength(1);
      expect(csp.get("style-src"), what).toEqual([`'sha256-${createHash("sha256").update(styles[0]!).digest("base64")}'`]);
      expect(page, what).not.toMatch(/<script|\sstyle=/i);
    }
  });

  it("the Download button's form may post here and be redirected to the file's host, nowhere else", async () => {
    const csp = directives((await fetch(landingLink)).headers.get("content-security-policy"));
    expect(csp.get("form-action")).toEqual(["'self'", "https://files.example.com"]);
  });

  it("the GraphQL explorer has the web app's policy (its own scripts), not the pages'; the webhook door and the API are left alone", async () => {
    const explorer = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    expect(explorer.status).toBe(200);
    expect(explorer.headers.get("content-security-policy")).toContain("script-src 'self'");
    const api = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"query":"{ __typename }"}' });
    expect(api.headers.get("content-security-policy")).toBeNull();
    const webhook = await fetch(`${server.url}/webhooks/generic`, { method: "POST", body: "{}" });
    expect(webhook.status).toBe(401);
    expect(webhook.headers.get("content-security-policy")).toBeNull();
  });
});
