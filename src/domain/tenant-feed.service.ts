import type { Principal } from "../auth/access-tokens.js";
import { DomainError } from "./errors.js";
import type { ListenUpdates, SendBudget } from "./live-updates.js";
import type { ReceiptEventRecord, TransferUpdate, TransferView } from "./model.js";
import type { ReceiptEventQuery } from "./receipt-history.service.js";

type FilterChecks = { [K in keyof ReceiptEventQuery]-?: (update: Matched, value: NonNullable<ReceiptEventQuery[K]>) => boolean };
/** An event with the transfer it moved: some filters are the transfer's (its sender). */
type Matched = { event: ReceiptEventRecord; transfer: TransferView };

/**
 * How a live event meets each field of `receiptEvents`' filter, so a stream and the history agree
 * on what a filter means. Typed over every field: a field added to the query does not compile
 * until it has its check here.
 */
const CHECKS: FilterChecks = {
  transferId: ({ event }, value) => event.transferId === value,
  channel: ({ event }, value) => event.channel === value,
  event: ({ event }, value) => event.event === value,
  provider: ({ event }, value) => event.provider === value,
  carrier: ({ event }, value) => event.carrier === value,
  region: ({ event }, value) => event.region === value,
  messageId: ({ event }, value) => event.messageId === value,
  senderName: ({ transfer }, value) => transfer.senderName === value,
  from: ({ event }, value) => event.occurredAt.getTime() >= value.getTime(),
  to: ({ event }, value) => event.occurredAt.getTime() <= value.getTime(),
};

export function matchesQuery(matched: Matched, query: ReceiptEventQuery): boolean {
  return (Object.keys(query) as Array<keyof ReceiptEventQuery>).every((key) => {
    const value = query[key];
    return value === undefined || (CHECKS[key] as (matched: Matched, value: unknown) => boolean)(matched, value);
  });
}

/**
 * `transfersUpdated` and `receiptEventAdded`: a tenant's updates, live. They carry no replay of
 * their own: an interrupted or too slow subscriber reads what it missed from the history
 * (`receiptEvents(after:)`, `transferUpdated(after:)`) with the cursor of the last item it got.
 */
export class TenantFeedService {
  constructor(private readonly listen: ListenUpdates) {}

  /** Every change of any of the tenant's transfers, each with the event that made it (null when none did, as at creation). */
  async watchTransfers(principal: Principal, budget?: SendBudget): Promise<AsyncIterable<TransferUpdate>> {
    const live = await this.listen(principal.tenantId, { budget }).catch((error: Error) => {
      throw interrupted(`live updates are unavailable: ${error.message}`);
    });
    return (async function* () {
      try {
        for (;;) {
          let next: IteratorResult<TransferUpdate>;
          try {
            next = await live.next();
          } catch (error) {
            throw interrupted((error as Error).message);
          }
          if (next.done) return;
          // The topic is the tenant's own; this keeps it so whatever reaches it.
          if (next.value.transfer.tenantId === principal.tenantId) yield next.value;
        }
      } finally {
        await live.return?.();
      }
    })();
  }

  /** Every new event of the tenant that matches `query`. */
  async watchEvents(principal: Principal, query: ReceiptEventQuery, budget?: SendBudget): Promise<AsyncIterable<ReceiptEventRecord>> {
    const updates = await this.watchTransfers(principal, budget);
    return (async function* () {
      for await (const { event, transfer } of updates) {
        if (event && matchesQuery({ event, transfer }, query)) yield event;
      }
    })();
  }
}

function interrupted(reason: string): DomainError {
  return new DomainError("SUBSCRIPTION_INTERRUPTED", `updates may have been lost (${reason}): read what you missed from the history with the cursor of the last one you got, and subscribe again`);
}
