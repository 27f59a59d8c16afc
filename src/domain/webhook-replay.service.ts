import { and, eq, inArray } from "drizzle-orm";
import type { Database } from "../db/client.js";
import { webhookDeliveries } from "../db/schema.js";
import { recordAudit } from "./audit.js";
import type { Caller } from "./caller.js";
import { DomainError } from "./errors.js";
import type { NormalizedEvent, TemplateUpdate, WebhookDeliveryRecord } from "./model.js";
import type { ReceiptService } from "./receipt.service.js";
import { deliveryEvents } from "./webhook-delivery-events.js";
import { isDeliveryId } from "./webhook-delivery.service.js";

/** A logged delivery's body → its events, by its door's normalization alone (no signature, no clock); BAD_USER_INPUT when it still fails. */
export type ReplayNormalizer = (delivery: WebhookDeliveryRecord) => { events: NormalizedEvent[]; templateUpdates: TemplateUpdate[] };

export interface ReplayResult {
  /** Deliveries replayed. */
  replayed: number;
  /** Events stored now. */
  stored: number;
  /** Events already stored: a matched one changes nothing, one never matched is handed back to be matched. */
  duplicates: number;
}

/** Deliveries one replay may name. */
export const MAX_REPLAY_DELIVERIES = 100;

/**
 * Replays logged deliveries after a fix (a status mapped later, a message that exists now): each
 * body is normalized again and its events appended through the same path as the door's, with its
 * source's tenant. Idempotent: events already stored are duplicates; those among them that never
 * matched a transfer are matched again. A tenant replays only deliveries through its own sources;
 * every replay is audited.
 */
export class WebhookReplayService {
  constructor(
    private readonly db: Database,
    private readonly options: { receipts: ReceiptService; normalize: ReplayNormalizer },
  ) {}

  async replay(caller: Caller, ids: string[], now = new Date()): Promise<ReplayResult> {
    const wanted = [...new Set(ids)];
    if (wanted.length === 0 || wanted.length > MAX_REPLAY_DELIVERIES) {
      throw new DomainError("BAD_USER_INPUT", `ids must name 1 to ${MAX_REPLAY_DELIVERIES} deliveries`, { field: "ids" });
    }
    const rows = await this.db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.tenantId, caller.principal.tenantId), inArray(webhookDeliveries.id, wanted.filter(isDeliveryId))));
    const found = new Set(rows.map((row) => row.id));
    const missing = wanted.filter((id) => !found.has(id));
    if (missing.length > 0) throw new DomainError("NOT_FOUND", `no webhook delivery ${missing.join(", ")}`, { ids: missing });

    // All normalized before anything is appended: one that still fails replays none.
    const normalized = rows.map((row) => ({ row, delivery: this.options.normalize(row) }));
    const { receipts } = this.options;
    const outcomes = await Promise.all(normalized.map(({ row, delivery }) => receipts.ingest({ events: deliveryEvents(row, delivery.events) })));
    await receipts.recordTemplateUpdates(normalized.flatMap(({ delivery }) => delivery.templateUpdates));
    const known = normalized.flatMap(({ delivery }, index) => delivery.events.filter((_event, event) => !outcomes[index]![event]!.stored));
    const requeued = await receipts.requeueUnmatched(caller.principal.tenantId, [...new Set(known.map((event) => event.dedupeKey))]);
    const total = outcomes.reduce((sum, delivery) => sum + delivery.length, 0);
    const result = { replayed: rows.length, stored: total - known.length, duplicates: known.length };
    await this.db.transaction((tx) => recordAudit(tx, caller, "webhook_delivery.replay", null, { deliveryIds: wanted, ...result, rematched: requeued }, now));
    return result;
  }
}
