import type { FastifyReply, FastifyRequest } from "fastify";
import { errors } from "jose";
import type { LinkScope, SigningKeys } from "../auth/signing-keys.js";
import type { SharedLimit } from "../rate-limits.js";
import { unavailablePage } from "./pages.js";

/** An HTML page: never cached, and a signed link in its URL never leaks as a referrer. */
export function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header("cache-control", "no-store").header("referrer-policy", "no-referrer").type("text/html; charset=utf-8").send(body);
}

/** A recipient's link: `/<route>/<id>?tok=<token signed for that id and scope>`. */
export type LinkRequest = { params: { id: string }; query: { tok?: string } };

/**
 * The id a link names if its token was signed for it and this use; otherwise the page that says
 * why (410 once expired, else 403) is sent and the answer is undefined.
 */
export async function verifiedLinkId(signingKeys: SigningKeys, request: LinkRequest, scope: LinkScope, reply: FastifyReply): Promise<string | undefined> {
  try {
    if ((await signingKeys.verifyLinkToken(request.query.tok ?? "", scope)) === request.params.id) return request.params.id;
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      await html(reply, 410, unavailablePage("The link has expired."));
      return undefined;
    }
  }
  await html(reply, 403, unavailablePage("The link is not valid."));
  return undefined;
}

/**
 * An onRequest hook counting every request per client address against `limit` (shared by every
 * instance): past it, 429 with `Retry-After` and a page saying when to come back.
 */
export function perAddressLimit(limit: SharedLimit) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const retryAfter = await limit.consume(request.ip);
    if (retryAfter === undefined) return undefined;
    return html(reply.header("retry-after", String(retryAfter)), 429, unavailablePage(`Too many requests from your address: try again in ${retryAfter} seconds.`));
  };
}
