import helmet from "@fastify/helmet";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { missingBuild, type WebBuild } from "./web-build.js";
import { WEB_HELMET_OPTIONS } from "./web-security.js";

/**
 * The web app under /app: its built files under /app/assets (named by their content, so cached
 * for good), and its page for /app and every path below it (the app routes in the browser).
 */
export const webAppRoutes: FastifyPluginAsync<{ build: WebBuild | null }> = async (app, { build }) => {
  await app.register(helmet, WEB_HELMET_OPTIONS);
  if (!build) {
    app.get("/app*", async (_request, reply) => reply.code(missingBuild.status).type("text/plain; charset=utf-8").send(missingBuild.body));
    return;
  }
  await app.register(fastifyStatic, { root: `${build.dir}assets`, prefix: "/app/assets/", immutable: true, maxAge: "365d", index: false, wildcard: true });
  const page = async (_request: unknown, reply: FastifyReply) => reply.header("cache-control", "no-cache").type("text/html; charset=utf-8").send(build.appPage);
  for (const path of ["/app", "/app/", "/app/stats", "/app/transfers/:id"]) app.get(path, page);
};
