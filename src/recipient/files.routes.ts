import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { type AccessTokenVerifier, extractBearer } from "../auth/access-tokens.js";
import type { SigningKeys } from "../auth/signing-keys.js";
import { DomainError } from "../domain/errors.js";
import type { DownloadService } from "../domain/download.service.js";
import type { FileUploadService } from "../domain/file-upload.service.js";
import type { FailureLimit } from "../rate-limits.js";
import type { LocalFiles } from "../storage/local-files.js";
import { html, verifiedLinkId } from "./html.js";
import { unavailablePage } from "./pages.js";

export interface FilesRoutesOptions {
  verifier: AccessTokenVerifier;
  authFailures: FailureLimit;
  uploads: FileUploadService;
  local: LocalFiles;
  signingKeys: SigningKeys;
  downloads: DownloadService;
}

const STATUS_OF: Partial<Record<DomainError["code"], number>> = { NOT_FOUND: 404, CONFLICT: 409, FAILED_PRECONDITION: 409, BAD_USER_INPUT: 422 };

/** `attachment; filename="…"` with a plain fallback and the UTF-8 name (RFC 6266). */
const attachment = (name: string) => `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; filename*=UTF-8''${encodeURIComponent(name)}`;

/**
 * The embedded file store (`DATA_DIR/files`): `PUT /files/<transfer id>` with an API token
 * (`transfers:write`) uploads the file, which must match the transfer's `fileSha256`; `GET
 * /files/<transfer id>?tok=…` streams it to the recipient a recorded download was sent to.
 */
export const filesRoutes: FastifyPluginAsync<FilesRoutesOptions> = async (app, options) => {
  // The body is streamed to disk as it comes, never buffered: any content type is the file's bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, payload, done) => done(null, payload));

  const problem = (reply: FastifyReply, status: number, error: string) => reply.code(status).send({ error });

  app.put<{ Params: { id: string } }>("/files/:id", async (request, reply) => {
    const blocked = options.authFailures.blockedFor(request.ip);
    if (blocked) return problem(reply.header("retry-after", String(blocked)), 429, "too many failed authentications from this address");
    const token = extractBearer(request.headers.authorization);
    const principal = token ? await options.verifier.verify(token).catch(() => undefined) : undefined;
    if (!principal) {
      await options.authFailures.recordFailure(request.ip);
      return problem(reply, 401, "a valid access token is required");
    }
    if (!principal.scopes.has("transfers:write")) return problem(reply, 403, "uploading needs the transfers:write scope");
    try {
      const stored = await options.uploads.upload({ principal, ip: request.ip, client: request.headers["user-agent"] }, request.params.id, request.raw);
      return reply.code(201).send({ transferId: request.params.id, ...stored });
    } catch (error) {
      if (error instanceof DomainError && STATUS_OF[error.code]) return problem(reply, STATUS_OF[error.code]!, error.message);
      throw error;
    }
  });

  app.get<{ Params: { id: string }; Querystring: { tok?: string } }>("/files/:id", async (request, reply) => {
    const transferId = await verifiedLinkId(options.signingKeys, request, "file", reply);
    if (!transferId) return reply;
    const transfer = await options.downloads.forLink(transferId);
    const size = transfer && !transfer.revokedAt ? await options.local.sizeOf(transferId) : undefined;
    if (!transfer || size === undefined) return html(reply, 410, unavailablePage("This file is no longer available."));
    return reply
      .header("content-type", "application/octet-stream")
      .header("content-length", String(size))
      .header("content-disposition", attachment(transfer.fileName))
      .header("cache-control", "no-store")
      .send(options.local.read(transferId));
  });
};
