import type { FastifyHelmetOptions } from "@fastify/helmet";

/**
 * Headers for the web app (/app) and the API explorer (GET /graphql): a Content-Security-Policy
 * that lets the page run only its own scripts and styles (files under /app/assets, no inline
 * script, nothing from elsewhere) and connect to this server only (HTTP and graphql-ws alike:
 * 'self' covers ws: and wss: to the same host). Fonts and icons the explorer's stylesheet
 * embeds come as data: URLs. No framing, `nosniff`, and the rest of helmet's defaults.
 */
export const WEB_HELMET_OPTIONS: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      fontSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
  },
  frameguard: { action: "deny" },
};
