import { readFile } from "node:fs/promises";
import type { FastifyPluginAsync } from "fastify";
import { html } from "../recipient/html.js";
import { rootPage } from "./root-page.js";

export interface RootRoutesOptions {
  /** The base URL the page's commands use. */
  baseUrl: () => string;
  /** Embedded mode's development token; undefined where auth is configured (then the page shows no secrets). */
  developmentToken: () => Promise<string | undefined>;
  /** Where embedded mode keeps its generated secrets. */
  secretsFile: string;
}

/** `GET /`: what this server is, its version, its endpoints, and in embedded mode how to start. */
export const rootRoutes: FastifyPluginAsync<RootRoutesOptions> = async (app, options) => {
  // src/root and dist/root both sit two levels below the package.
  const { version } = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

  app.get("/", async (_request, reply) => {
    const token = await options.developmentToken();
    const development = token ? { token, secretsFile: options.secretsFile } : undefined;
    return html(reply, 200, rootPage({ version, baseUrl: options.baseUrl(), development }));
  });
};
