import type { FastifyReply } from "fastify";
import { missingBuild, type WebBuild } from "./web-build.js";

const TOKEN_META = '<meta name="ackline-development-token" content="" />';

const escapeAttribute = (value: string) => value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/**
 * GET /graphql from a browser: GraphiQL from Ackline's own build (no CDN), with the development
 * token filled in under the headers when Ackline runs on its embedded default. The token goes in
 * a meta element, which the explorer's own script reads: the page runs no inline script.
 */
export function explorerPage(build: WebBuild | null, developmentToken: () => Promise<string | undefined>) {
  return async (reply: FastifyReply): Promise<FastifyReply> => {
    if (!build) return reply.code(missingBuild.status).type("text/plain; charset=utf-8").send(missingBuild.body);
    const token = await developmentToken();
    const page = token ? build.explorerPage.replace(TOKEN_META, `<meta name="ackline-development-token" content="${escapeAttribute(token)}" />`) : build.explorerPage;
    // Sets the web pages' headers (registered in graphql.routes.ts) on this answer only.
    reply.helmet();
    return reply.header("cache-control", "no-store").type("text/html; charset=utf-8").send(page);
  };
}
