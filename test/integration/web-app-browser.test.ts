import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordDownloadDocument } from "../generated/graphql.js";
import { ARTIFACTS_DIR, launchChromium, recordTexts, waitForText, watchedPage } from "../helpers/browser.js";
import { startEmbeddedServer } from "../helpers/embedded-server.js";
import { graphql, postGraphQL } from "../helpers/graphql.js";
import { serverWithFakeCpaas } from "../helpers/server-fixture.js";
import { tokenFor } from "../helpers/server.js";
import { createTransfer, sentTransfer } from "../helpers/transfers.js";
import { uniqueTenant } from "../helpers/wait.js";
import { postGeneric } from "../helpers/webhooks.js";

const STATUS = '[data-testid="transfer-status"]';
/** Presses GraphiQL's run button until the result shows `text`. */
async function runUntil(page: Page, text: string, attempts = 20): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await page.click(".graphiql-execute-button");
    const shown = await page
      .locator(".result-window", { hasText: text })
      .waitFor({ timeout: 1000 })
      .then(() => true, () => false);
    if (shown) return;
    if (attempt >= attempts) throw new Error(`GraphiQL never showed ${text}`);
  }
}

const receipt = (providerMessageId: string, event: string, at: number) => ({ event, timestamp: new Date(at).toISOString(), message_id: providerMessageId });

/** The web app and the explorer in headless Chromium, against a real Ackline (PostgreSQL, Redis, a fake CPaaS). */
describe("the web app in a browser", () => {
  const fixture = serverWithFakeCpaas();
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("a transfer's page follows it live over graphql-ws: QUEUED → SENT → DELIVERED → READ → DOWNLOADED, each event with its time and channel", async () => {
    const token = await tokenFor(uniqueTenant("browser"));
    const sent = await sentTransfer(fixture.server, fixture.cpaas, token, "+14165550401");
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${fixture.server.url}/app/transfers/${sent.transfer.id}#token=${token}`);
    await waitForText(page, STATUS, "QUEUED");
    // Every status the page shows, in order, as the DOM changes.
    const statusesShown = await recordTexts(page, STATUS);
    // The token left the address bar at once.
    expect(page.url()).not.toContain("token=");

    const t0 = Date.now();
    expect((await postGeneric(fixture.server.url, receipt(sent.providerMessageId, "message.sent", t0))).status).toBe(200);
    await waitForText(page, STATUS, "SENT");
    expect((await postGeneric(fixture.server.url, receipt(sent.providerMessageId, "message.delivered", t0 + 500))).status).toBe(200);
    await waitForText(page, STATUS, "DELIVERED");
    expect((await postGeneric(fixture.server.url, receipt(sent.providerMessageId, "message.read", t0 + 1000))).status).toBe(200);
    await waitForText(page, STATUS, "READ");
    const downloaded = await graphql(fixture.server.url, RecordDownloadDocument, { input: { transferId: sent.transfer.id } }, token);
    expect(downloaded.body.errors).toBeUndefined();
    await waitForText(page, STATUS, "DOWNLOADED");

    expect(await statusesShown()).toEqual(["QUEUED", "SENT", "DELIVERED", "READ", "DOWNLOADED"]);
    const events = await page.locator('[data-testid="event"]').allTextContents();
    expect(events.find((text) => text.includes("DELIVERED"))).toContain("RCS");
    expect(events.find((text) => text.includes("READ"))).toContain("RCS");
    expect(events.some((text) => text.includes("DOWNLOADED"))).toBe(true);
    expect(await page.locator("time").first().getAttribute("datetime")).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, "transfer-page.png"), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it("/app lists the tenant's recent transfers and adds new ones live; /app/stats draws its charts; a pasted token signs in", async () => {
    const token = await tokenFor(uniqueTenant("browser-list"));
    const first = await createTransfer(fixture.server, token, "+14165550402");
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${fixture.server.url}/app`);
    await page.fill("#token", token);
    await page.click('button[type="submit"]');
    await page.waitForSelector(`[data-testid="transfer-${first.id}"]`);
    const later = await createTransfer(fixture.server, token, "+14165550403");
    await page.waitForSelector(`[data-testid="transfer-${later.id}"]`, { timeout: 20_000 });
    expect(await page.locator('[data-testid="transfers"] tbody tr').first().getAttribute("data-testid")).toBe(`transfer-${later.id}`);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, "transfers-page.png"), fullPage: true });

    await page.click('a[href="/app/stats"]');
    await page.waitForSelector('[data-testid="stats-by-channel"] svg');
    await page.waitForSelector('[data-testid="stats-by-day"] svg');
    expect(await page.locator('[data-testid="stats-by-channel"] text').allTextContents()).toContain("RCS");
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, "stats-page.png"), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe("the API explorer in a browser, offline", () => {
  let embedded: Awaited<ReturnType<typeof startEmbeddedServer>>;
  let browser: Browser;
  beforeAll(async () => {
    [embedded, browser] = await Promise.all([startEmbeddedServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await embedded?.close();
  });

  it("GraphiQL loads from Ackline alone, with the development token under Headers, runs a query, and a subscription over graphql-ws", async () => {
    const { page, problems } = await watchedPage(browser);
    const outside: string[] = [];
    // Anything not from Ackline itself would fail on a machine without internet: none may be asked for.
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(embedded.url) || url.startsWith(embedded.url.replace(/^http/, "ws")) || url.startsWith("data:")) return route.continue();
      outside.push(url);
      return route.abort();
    });
    await page.goto(`${embedded.url}/graphql`);
    await page.waitForSelector(".graphiql-container");
    await page.waitForSelector(".graphiql-execute-button");
    // GraphiQL ignores a run before its schema has loaded: run again until the answer shows.
    await runUntil(page, '"transfers"');
    expect(await page.locator(".result-window").textContent()).not.toContain("error");
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, "graphiql.png") });

    // A subscription runs over graphql-ws with the token from Headers: a transfer created meanwhile shows up.
    const token = (await page.locator('meta[name="ackline-development-token"]').getAttribute("content")) ?? "";
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // Set as a user's edit would (CodeMirror's own API: typing races its completion popups).
    await page
      .locator(".graphiql-query-editor .CodeMirror")
      .first()
      .evaluate((editor, text) => (editor as unknown as { CodeMirror: { setValue(text: string): void } }).CodeMirror.setValue(text), "subscription Live { transfersUpdated { transfer { id status } } }");
    await page.click(".graphiql-execute-button");
    await new Promise((resolve) => setTimeout(resolve, 500));
    const created = await postGraphQL(
      embedded.url,
      { query: 'mutation { createTransfer(input: { recipient: { email: "a@example.com" }, fileName: "live.zip", fileSizeBytes: 1, senderName: "Acme" }) { id } }' },
      token,
    );
    const id = (created.body.data as { createTransfer: { id: string } }).createTransfer.id;
    await page.locator(".result-window", { hasText: id }).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, "graphiql-subscription.png") });
    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
