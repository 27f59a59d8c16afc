import { createHash } from "node:crypto";
import helmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";
import { PAGE_STYLE } from "./pages.js";

/** The CSP source that allows exactly the pages' one inline style block, and nothing else inline. */
const PAGE_STYLE_SOURCE = `'sha256-${createHash("sha256").update(PAGE_STYLE).digest("base64")}'`;

/**
 * Security headers for the HTML pages (recipient links, the root page) of `pages`, an
 * encapsulated scope holding only them: a strict Content-Security-Policy (no scripts, no framing,
 * nothing loaded, the one style block by its hash), `X-Frame-Options: DENY`, `nosniff`, and the
 * rest of helmet's defaults. GraphQL's explorer and the webhook door run no helmet hooks.
 */
export async function securePages(pages: FastifyInstance, options: { fileOrigin?: string }): Promise<void> {
  // The download's POST redirects to the file's host (when not this server), and Chrome applies form-action to that redirect.
  const fileOrigin = options.fileOrigin ? [options.fileOrigin] : [];
  await pages.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: [PAGE_STYLE_SOURCE],
        formAction: ["'self'", ...fileOrigin],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    frameguard: { action: "deny" },
  });
}
