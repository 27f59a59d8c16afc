import type { FastifyPluginAsync } from "fastify";
import type { SigningKeys } from "../auth/signing-keys.js";
import { DomainError } from "../domain/errors.js";
import type { UnsubscribeService } from "../domain/unsubscribe.service.js";
import type { SharedLimit } from "../rate-limits.js";
import { html, perAddressLimit, verifiedLinkId } from "./html.js";
import { unavailablePage, unsubscribedPage, unsubscribePage } from "./pages.js";

export interface UnsubscribeRoutesOptions {
  /** Requests per client address (`RATE_LIMIT_RECIPIENT`). */
  limit: SharedLimit;
  signingKeys: SigningKeys;
  unsubscribes: UnsubscribeService;
}

type UnsubscribeRequest = { Params: { id: string }; Querystring: { tok?: string }; Body: string | undefined };

/**
 * An email's unsubscribe link, `/u/<message id>?tok=<signed token naming it>` (also its
 * `List-Unsubscribe` header). GET shows a button; the POST — the button's, or a mail client's RFC 8058 one-click
 * `List-Unsubscribe=One-Click` — suppresses the address for the tenant. A bad link is 403.
 */
export const unsubscribeRoutes: FastifyPluginAsync<UnsubscribeRoutesOptions> = async (app, options) => {
  app.addHook("onRequest", perAddressLimit(options.limit));
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => done(null, body));

  app.get<UnsubscribeRequest>("/u/:id", async (request, reply) => {
    if (!(await verifiedLinkId(options.signingKeys, request, "unsubscribe", reply))) return reply;
    return html(reply, 200, unsubscribePage(`/u/${encodeURIComponent(request.params.id)}?tok=${encodeURIComponent(request.query.tok ?? "")}`));
  });

  app.post<UnsubscribeRequest>("/u/:id", async (request, reply) => {
    const messageId = await verifiedLinkId(options.signingKeys, request, "unsubscribe", reply);
    if (!messageId) return reply;
    const oneClick = new URLSearchParams(request.body ?? "").get("List-Unsubscribe") === "One-Click";
    try {
      const { email } = await options.unsubscribes.recordUnsubscribe(messageId, { ip: request.ip, userAgent: request.headers["user-agent"], oneClick });
      return html(reply, 200, unsubscribedPage(email));
    } catch (error) {
      if (error instanceof DomainError && error.code === "NOT_FOUND") return html(reply, 403, unavailablePage("The link is not valid."));
      throw error;
    }
  });
};
