import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Principal } from "../auth/access-tokens.js";
import type { Database } from "../db/client.js";
import { webhookDeliveries } from "../db/schema.js";
import { DomainError } from "./errors.js";
import type { WebhookDeliveryOutcome, WebhookDeliveryRecord } from "./model.js";
import { requirePageSize } from "./validation.js";

export interface WebhookDeliveryQuery {
  sourceId?: string;
  outcome?: WebhookDeliveryOutcome;
}

export interface WebhookDeliveryPage {
  edges: Array<{ cursor: string; node: WebhookDeliveryRecord }>;
  hasNextPage: boolean;
  endCursor: string | null;
}

/** Each delivery carries its raw body (up to WEBHOOK_BODY_LIMIT): pages stay small. */
export const MAX_DELIVERY_PAGE_SIZE = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `id` can be a logged delivery's id (a UUID); anything else names none. */
export const isDeliveryId = (id: string): boolean => UUID.test(id);

const encodeCursor = (id: string) => Buffer.from(id).toString("base64url");

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, "base64url").toString("utf8");
  if (!isDeliveryId(id)) throw new DomainError("BAD_USER_INPUT", "after is not a cursor this API issued", { field: "after" });
  return id;
}

/**
 * The delivery log as a tenant sees it: deliveries through its own sources only, newest first,
 * along the primary key (ids start with the receipt time), so paging never repeats or skips.
 * Deliveries to the server-wide doors belong to no tenant and are listed to none.
 */
export class WebhookDeliveryService {
  constructor(private readonly db: Database) {}

  async list(principal: Principal, query: WebhookDeliveryQuery, first = 50, after?: string): Promise<WebhookDeliveryPage> {
    requirePageSize(first, MAX_DELIVERY_PAGE_SIZE);
    const conditions: SQL[] = [eq(webhookDeliveries.tenantId, principal.tenantId)];
    if (query.sourceId !== undefined) conditions.push(eq(webhookDeliveries.sourceId, query.sourceId));
    if (query.outcome !== undefined) conditions.push(eq(webhookDeliveries.outcome, query.outcome));
    if (after !== undefined) conditions.push(lt(webhookDeliveries.id, decodeCursor(after)));
    const rows = await this.db
      .select()
      .from(webhookDeliveries)
      .where(and(...conditions))
      .orderBy(desc(webhookDeliveries.id))
      .limit(first + 1);
    const edges = rows.slice(0, first).map((node) => ({ cursor: encodeCursor(node.id), node }));
    return { edges, hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null };
  }
}
