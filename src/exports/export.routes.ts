import { Readable } from "node:stream";
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { type AccessTokenVerifier, extractBearer } from "../auth/access-tokens.js";
import type { Database } from "../db/client.js";
import { DomainError } from "../domain/errors.js";
import { exportReceiptEvents } from "../domain/receipt-export.js";
import type { FailureLimit } from "../rate-limits.js";
import { EXPORT_FORMATS, type ExportFormat } from "./receipt-event-lines.js";

export interface ExportRoutesOptions {
  /** Where exports read: the replica when there is one. */
  db: Database;
  verifier: AccessTokenVerifier;
  authFailures: FailureLimit;
}

const querySchema = z
  .object({
    format: z.enum(Object.keys(EXPORT_FORMATS) as [ExportFormat, ...ExportFormat[]], { error: "format must be ndjson or csv" }),
    from: z.iso.datetime({ offset: true, error: "from must be an ISO 8601 date-time" }).pipe(z.coerce.date()).optional(),
    to: z.iso.datetime({ offset: true, error: "to must be an ISO 8601 date-time" }).pipe(z.coerce.date()).optional(),
  })
  .refine((query) => !query.from || !query.to || query.from < query.to, { error: "from must be before to" });

/**
 * `GET /exports/receipt-events?format=ndjson|csv&from=&to=`: the caller's tenant's receipt events
 * with provider time in [from, to), streamed as they are read (backpressure included), with a
 * Bearer token carrying `receipts:read`.
 */
export const exportRoutes: FastifyPluginAsync<ExportRoutesOptions> = async (app, options) => {
  app.get<{ Querystring: Record<string, string> }>("/exports/receipt-events", async (request, reply) => {
    const token = extractBearer(request.headers.authorization);
    if (!token) return reply.code(401).header("www-authenticate", "Bearer").send({ error: "an access token is required", code: "UNAUTHENTICATED" });
    const blocked = options.authFailures.blockedFor(request.ip);
    if (blocked) return reply.code(429).header("retry-after", String(blocked)).send({ error: "too many failed authentications from this address", code: "RATE_LIMITED" });
    let principal;
    try {
      principal = await options.verifier.verify(token);
    } catch (error) {
      await options.authFailures.recordFailure(request.ip);
      return reply.code(401).send({ error: error instanceof DomainError ? error.message : "invalid access token", code: "UNAUTHENTICATED" });
    }
    if (!principal.scopes.has("receipts:read")) return reply.code(403).send({ error: "the access token lacks scope receipts:read", code: "FORBIDDEN" });

    const parsed = querySchema.safeParse(request.query);
    if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues.map((issue) => issue.message).join("; "), code: "BAD_USER_INPUT" });
    const { format, from, to } = parsed.data;
    const { contentType, header, line } = EXPORT_FORMATS[format];
    const events = exportReceiptEvents(options.db, principal.tenantId, { from, to });
    // The first batch is read before answering, so a database error is still an error answer, not a cut stream.
    const first = await events.next();
    async function* lines() {
      if (header) yield header;
      if (first.done) return;
      yield line(first.value);
      for await (const event of events) yield line(event);
    }
    return reply
      .code(200)
      .type(contentType)
      .header("content-disposition", `attachment; filename="receipt-events.${format}"`)
      .header("cache-control", "no-store")
      .send(Readable.from(lines()));
  });
};
