import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** Where `npm run build` puts the web app and the explorer (web/vite.config.ts), from src/webapp or dist/webapp alike. */
export const WEB_BUILD_DIR = fileURLToPath(new URL("../../web/dist/", import.meta.url));

/** The built pages, read once at start; null when the web build is missing (run `npm run build`). */
export interface WebBuild {
  dir: string;
  appPage: string;
  explorerPage: string;
}

export async function loadWebBuild(dir = WEB_BUILD_DIR): Promise<WebBuild | null> {
  try {
    const [appPage, explorerPage] = await Promise.all([readFile(`${dir}index.html`, "utf8"), readFile(`${dir}graphiql.html`, "utf8")]);
    return { dir, appPage, explorerPage };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

const MISSING = "The web app is not built: run `npm run build` (npm start does it first).";

/** The answer where the build is missing: the API still works, the pages say how to get them. */
export const missingBuild = { status: 503, body: MISSING };
