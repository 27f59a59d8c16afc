import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Principal } from "../auth/access-tokens.js";
import type { Database } from "../db/client.js";
import { webhookSources } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import { DomainError } from "./errors.js";
import { newId } from "./ids.js";
import type { WebhookSourceRecord } from "./model.js";
import type { SecretBox } from "./secret-box.js";
import type { Caller } from "./caller.js";
import { parseInput } from "./validation.js";

/** Checks a provider's secrets as a tenant gives them (the webhook edge knows each provider's keys). */
export type SecretsValidator = (provider: string, secrets: Record<string, unknown>) => Record<string, string>;

/** What a door needs of a source to let a delivery in. */
export interface SourceCredentials {
  tenantId: string;
  provider: string;
  enabled: boolean;
  /** The current secrets first, then the previous ones while their grace period lasts. */
  secrets: Array<Record<string, string>>;
}

const createSchema = z.object({
  provider: z.string().min(1),
  name: z.string().trim().min(1).max(200).optional(),
  secrets: z.record(z.string(), z.unknown()),
});
const graceSchema = z.number().int().min(0, "graceMinutes cannot be negative").max(30 * 24 * 60, "graceMinutes is at most 30 days");

/** How long a door trusts what it read of a source: a disabled source or a rotation takes effect within it on every instance. */
const CREDENTIALS_TTL_MS = 2000;
/** Ids looked up are cached, unknown ones too: past this many (random ids from a prober), start afresh. */
const CREDENTIALS_CACHE_LIMIT = 10_000;

function toRecord(row: typeof webhookSources.$inferSelect): WebhookSourceRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    provider: row.provider,
    name: row.name,
    enabled: row.enabled,
    createdAt: row.createdAt,
    secretsRotatedAt: row.secretsRotatedAt,
  };
}

/**
 * A tenant's webhook sources: each a provider account with its own URL and sealed secrets,
 * rotated with a grace period in which the old and the new secrets both verify.
 */
export class WebhookSourceService {
  private readonly credentialsCache = new Map<string, { credentials: SourceCredentials | undefined; readAt: number }>();

  constructor(
    private readonly db: Database,
    private readonly options: { secretBox?: SecretBox; validateSecrets: SecretsValidator },
  ) {}

  list(principal: Principal): Promise<WebhookSourceRecord[]> {
    return this.db
      .select()
      .from(webhookSources)
      .where(eq(webhookSources.tenantId, principal.tenantId))
      .orderBy(desc(webhookSources.createdAt), webhookSources.id)
      .then((rows) => rows.map(toRecord));
  }

  async create(caller: Caller, input: { provider: string; name?: string; secrets: Record<string, unknown> }, now = new Date()): Promise<WebhookSourceRecord> {
    const { provider, name, secrets } = parseInput(createSchema, input);
    const sealed = this.seal(provider, secrets);
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(webhookSources)
        .values({ id: newId("whs"), tenantId: caller.principal.tenantId, provider, name: name ?? null, sealedSecrets: sealed, createdAt: now })
        .returning();
      // The secrets themselves never reach the audit log.
      await recordAudit(tx, caller, "webhook_source.create", null, { sourceId: row!.id, provider, name: name ?? null }, now);
      return toRecord(row!);
    });
  }

  /** New secrets verify at once; the current ones keep verifying for `graceMinutes`. */
  async rotateSecrets(caller: Caller, id: string, secrets: Record<string, unknown>, graceMinutes: number, now = new Date()): Promise<WebhookSourceRecord> {
    const grace = parseInput(graceSchema, graceMinutes);
    return this.db.transaction(async (tx) => {
      const current = await this.ownSource(tx, caller.principal, id);
      const [row] = await tx
        .update(webhookSources)
        .set({
          sealedSecrets: this.seal(current.provider, secrets),
          previousSealedSecrets: grace > 0 ? current.sealedSecrets : null,
          previousValidUntil: grace > 0 ? new Date(now.getTime() + grace * 60_000) : null,
          secretsRotatedAt: now,
        })
        .where(eq(webhookSources.id, id))
        .returning();
      await recordAudit(tx, caller, "webhook_source.rotate_secrets", null, { sourceId: id, graceMinutes: grace }, now);
      this.credentialsCache.delete(id);
      return toRecord(row!);
    });
  }

  async setEnabled(caller: Caller, id: string, enabled: boolean, now = new Date()): Promise<WebhookSourceRecord> {
    return this.db.transaction(async (tx) => {
      await this.ownSource(tx, caller.principal, id);
      const [row] = await tx.update(webhookSources).set({ enabled }).where(eq(webhookSources.id, id)).returning();
      await recordAudit(tx, caller, enabled ? "webhook_source.enable" : "webhook_source.disable", null, { sourceId: id }, now);
      this.credentialsCache.delete(id);
      return toRecord(row!);
    });
  }

  /** For the door: the source behind a URL, or undefined when there is none. Read at most every couple of seconds. */
  async credentials(id: string, now = new Date()): Promise<SourceCredentials | undefined> {
    const cached = this.credentialsCache.get(id);
    if (cached && now.getTime() - cached.readAt < CREDENTIALS_TTL_MS) return cached.credentials;
    const [row] = await this.db.select().from(webhookSources).where(eq(webhookSources.id, id));
    const credentials = row && {
      tenantId: row.tenantId,
      provider: row.provider,
      enabled: row.enabled,
      secrets: [
        this.box().open(row.sealedSecrets),
        ...(row.previousSealedSecrets && row.previousValidUntil && row.previousValidUntil > now ? [this.box().open(row.previousSealedSecrets)] : []),
      ],
    };
    if (this.credentialsCache.size >= CREDENTIALS_CACHE_LIMIT) this.credentialsCache.clear();
    this.credentialsCache.set(id, { credentials, readAt: now.getTime() });
    return credentials;
  }

  private seal(provider: string, secrets: Record<string, unknown>): string {
    return this.box().seal(this.options.validateSecrets(provider, secrets));
  }

  private box(): SecretBox {
    if (!this.options.secretBox) throw new DomainError("FAILED_PRECONDITION", "webhook sources need SECRETS_KEY to be configured (their secrets are stored encrypted with it)");
    return this.options.secretBox;
  }

  private async ownSource(tx: Pick<Database, "select">, principal: Principal, id: string): Promise<typeof webhookSources.$inferSelect> {
    const [row] = await tx
      .select()
      .from(webhookSources)
      .where(and(eq(webhookSources.id, id), eq(webhookSources.tenantId, principal.tenantId)))
      .for("update");
    if (!row) throw new DomainError("NOT_FOUND", `no webhook source ${id}`);
    return row;
  }
}
