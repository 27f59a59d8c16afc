import { and, desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Principal } from "../auth/access-tokens.js";
import type { Database, Queryable, Transaction } from "../db/client.js";
import { suppressions } from "../db/schema.js";
import { textArray } from "../db/sql.js";
import { recordAudit } from "./audit.js";
import { emailSchema, parseInput, phoneSchema } from "./validation.js";
import { DomainError } from "./errors.js";
import {
  addressKindOf,
  type AddressKind,
  type Channel,
  type ReceiptEventType,
  type SuppressionReason,
  type SuppressionRecord,
} from "./model.js";
import type { Caller } from "./caller.js";

/** The receipt events that suppress the address they came from, and why. */
const SUPPRESSING_EVENTS: Partial<Record<ReceiptEventType, SuppressionReason>> = { OPT_OUT: "OPT_OUT", COMPLAINT: "COMPLAINT" };

/** A hard bounce: an email FAILED event whose provider called the failure permanent. */
function isHardBounce(event: { event: ReceiptEventType; channel: Channel | null; metadata: Record<string, unknown> }): boolean {
  const kind = event.metadata.bounce_type ?? event.metadata.bounceType;
  if (typeof kind !== "string") return false;
  return event.event === "FAILED" && event.channel === "EMAIL" && ["hard", "permanent"].includes(kind.toLowerCase());
}

interface StoredEvent {
  id: number;
  tenantId: string | null;
  transferId: string | null;
  event: ReceiptEventType;
  channel: Channel | null;
  metadata: Record<string, unknown>;
}

/**
 * Suppresses, in the ingest transaction, the addresses that opted out, complained or hard-bounced
 * (a phone for RCS and SMS, an email address for email). The first reason recorded stands.
 */
export async function suppressFromEvents(
  tx: Transaction,
  events: StoredEvent[],
  recipients: ReadonlyMap<string, { recipientPhone: string | null; recipientEmail: string | null }>,
  now: Date,
): Promise<void> {
  const rows = events.flatMap((event) => {
    const reason = SUPPRESSING_EVENTS[event.event] ?? (isHardBounce(event) ? "BOUNCE" : undefined);
    const recipient = event.transferId ? recipients.get(event.transferId) : undefined;
    if (!reason || !event.tenantId || !recipient) return [];
    // Inbound opt-outs (a STOP reply) come from the phone, whatever channel they name.
    const kind = addressKindOf(event.channel ?? "SMS");
    const address = kind === "email" ? recipient.recipientEmail : recipient.recipientPhone;
    return address ? [{ tenantId: event.tenantId, kind, address, reason, eventId: event.id, createdBy: "receipt", createdAt: now }] : [];
  });
  if (rows.length > 0) await tx.insert(suppressions).values(rows).onConflictDoNothing();
}

/**
 * For each send, whether its tenant must not send on its channel to its transfer's recipient:
 * one statement for the whole batch (fixed text, array parameters).
 */
export async function suppressionsFor(
  db: Queryable,
  sends: ReadonlyArray<{ tenantId: string; channel: Channel; recipient: { recipientPhone: string | null; recipientEmail: string | null } }>,
): Promise<Array<SuppressionRecord | undefined>> {
  const wanted = sends.map(({ tenantId, channel, recipient }) => {
    const kind = addressKindOf(channel);
    return { tenantId, kind, address: kind === "email" ? recipient.recipientEmail : recipient.recipientPhone };
  });
  const asked = wanted.filter((want) => want.address);
  if (asked.length === 0) return sends.map(() => undefined);
  const rows = await db
    .select()
    .from(suppressions)
    .where(
      sql`(${suppressions.tenantId}, ${suppressions.kind}, ${suppressions.address}) IN (SELECT * FROM unnest(${textArray(asked.map((want) => want.tenantId))},
        ${textArray(asked.map((want) => want.kind))}, ${textArray(asked.map((want) => want.address))}))`,
    );
  const key = (row: { tenantId: string; kind: string; address: string | null }) => JSON.stringify([row.tenantId, row.kind, row.address]);
  const byKey = new Map(rows.map((row) => [key(row), row]));
  return wanted.map((want) => (want.address ? byKey.get(key(want)) : undefined));
}

const addressSchema = z
  .object({
    phone: phoneSchema.optional(),
    email: emailSchema.optional(),
  })
  .refine((input) => Boolean(input.phone) !== Boolean(input.email), { message: "give exactly one of phone or email", path: ["phone"] });

const suppressSchema = addressSchema.and(z.object({ note: z.string().max(500).optional() }));
const removeSchema = addressSchema.and(z.object({ consent: z.string().trim().min(1, "consent must say how the recipient agreed again").max(500) }));

function addressOf(input: { phone?: string; email?: string }): { kind: AddressKind; address: string } {
  return input.phone ? { kind: "phone", address: input.phone } : { kind: "email", address: input.email! };
}

/** The tenant's suppression list: read, add by hand, and lift with recorded consent. */
export class SuppressionService {
  constructor(private readonly db: Database) {}

  list(principal: Principal, first: number): Promise<SuppressionRecord[]> {
    if (!Number.isInteger(first) || first < 1 || first > 500) throw new DomainError("BAD_USER_INPUT", "first must be between 1 and 500", { field: "first" });
    return this.db
      .select()
      .from(suppressions)
      .where(eq(suppressions.tenantId, principal.tenantId))
      .orderBy(desc(suppressions.createdAt), suppressions.address)
      .limit(first);
  }

  async add(caller: Caller, input: { phone?: string; email?: string; note?: string }, now = new Date()): Promise<SuppressionRecord> {
    const { note, ...address } = parseInput(suppressSchema, input);
    const { kind, address: value } = addressOf(address);
    return this.db.transaction(async (tx) => {
      await tx
        .insert(suppressions)
        .values({ tenantId: caller.principal.tenantId, kind, address: value, reason: "MANUAL", note: note ?? null, createdBy: caller.principal.subject, createdAt: now })
        .onConflictDoNothing();
      await recordAudit(tx, caller, "suppression.add", null, { kind, address: value, note: note ?? null }, now);
      const [row] = await tx
        .select()
        .from(suppressions)
        .where(and(eq(suppressions.tenantId, caller.principal.tenantId), eq(suppressions.kind, kind), eq(suppressions.address, value)));
      return row!;
    });
  }

  /** Lifting a suppression is consent capture: how the recipient agreed again goes to the audit log. */
  async remove(caller: Caller, input: { phone?: string; email?: string; consent: string }, now = new Date()): Promise<boolean> {
    const { consent, ...address } = parseInput(removeSchema, input);
    const { kind, address: value } = addressOf(address);
    return this.db.transaction(async (tx) => {
      const removed = await tx
        .delete(suppressions)
        .where(and(eq(suppressions.tenantId, caller.principal.tenantId), eq(suppressions.kind, kind), eq(suppressions.address, value)))
        .returning({ reason: suppressions.reason });
      if (removed.length === 0) throw new DomainError("NOT_FOUND", `${value} is not suppressed`);
      await recordAudit(tx, caller, "suppression.remove", null, { kind, address: value, consent, was: removed[0]!.reason }, now);
      return true;
    });
  }
}
