import { mkdir } from "node:fs/promises";
import { type Browser, chromium, type Page } from "playwright-core";

/** Where browser tests leave their screenshots (gitignored). */
export const ARTIFACTS_DIR = "test-artifacts";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Debian's Chromium, headless, driven by playwright-core (no browser download; the machine may be offline). */
export async function launchChromium(): Promise<Browser> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
}

/** A page that records what went wrong in it: uncaught errors, console errors (CSP violations among them), failed requests. */
export async function watchedPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ""}`));
  return { page, problems };
}

/**
 * The little of the page's globals the functions below use there. The tests compile for Node,
 * without the DOM's types; and the page's policy forbids eval, so page code is a function, never text.
 */
interface PageGlobals {
  document: { querySelector(selector: string): { textContent: string | null } | null; body: unknown };
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: Record<string, boolean>): void };
  seenTexts?: string[];
}

/** Resolves once the element's text is `text` (polling the page), or fails after `timeoutMs`. */
export async function waitForText(page: Page, selector: string, text: string, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction(
    ({ selector, text }) => (globalThis as unknown as PageGlobals).document.querySelector(selector)?.textContent?.trim() === text,
    { selector, text },
    { timeout: timeoutMs, polling: 50 },
  );
}

/** Starts recording every distinct text the element shows, in order, as the DOM changes; the returned function reads them. */
export async function recordTexts(page: Page, selector: string): Promise<() => Promise<string[]>> {
  await page.evaluate((selector) => {
    const inPage = globalThis as unknown as PageGlobals;
    const read = () => inPage.document.querySelector(selector)?.textContent?.trim();
    const seen = (inPage.seenTexts = [read() ?? ""]);
    new inPage.MutationObserver(() => {
      const text = read();
      if (text && text !== seen.at(-1)) seen.push(text);
    }).observe(inPage.document.body, { subtree: true, childList: true, characterData: true });
  }, selector);
  return () => page.evaluate(() => (globalThis as unknown as PageGlobals).seenTexts ?? []);
}
