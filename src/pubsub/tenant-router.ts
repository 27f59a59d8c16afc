import type { TransferUpdate } from "../domain/model.js";
import type { MessageBus } from "./bus.js";

/**
 * One topic per tenant: an instance publishes one message per tenant per batch of updates (not
 * one per update), and Redis routes it only to instances with a subscriber of that tenant.
 */
export const tenantTopic = (tenantId: string): string => `ackline.tenant.${tenantId}`;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * Values crossing the bus are JSON: turn our `…At` timestamps back into dates, in place. A walk
 * after a plain parse, because a `JSON.parse` reviver costs three times as much per update.
 */
function reviveDates<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) if (item && typeof item === "object") reviveDates(item);
  } else if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    for (const key in record) {
      const field = record[key];
      if (typeof field === "string") {
        if (key.endsWith("At") && ISO_DATE.test(field)) record[key] = new Date(field);
      } else if (field && typeof field === "object") reviveDates(field);
    }
  }
  return value;
}

/** Where routed updates go: a subscriber's queue. */
export interface UpdateSink {
  deliver(update: TransferUpdate): void;
  /** Updates may have been lost; nothing more comes to this sink. */
  interrupted(reason: Error): void;
}

/** A tenant's one bus subscription on this instance, and the sinks it serves. */
interface TenantRoute {
  everything: Set<UpdateSink>;
  byTransfer: Map<string, Set<UpdateSink>>;
  sinks: number;
  subscribed: Promise<() => void>;
}

/**
 * Every subscriber of a tenant on this instance shares one bus subscription: a message is parsed
 * once, then each update goes to the tenant-wide sinks and, by a map lookup, to the sinks of its
 * own transfer — so a thousand watched transfers cost no more per message than one.
 */
export class TenantRouter {
  private readonly routes = new Map<string, TenantRoute>();

  constructor(private readonly bus: MessageBus) {}

  /** Resolves with a removal once the tenant's updates reach `sink` (only `transferId`'s, when given). */
  async add(tenantId: string, transferId: string | undefined, sink: UpdateSink): Promise<() => void> {
    let route = this.routes.get(tenantId);
    if (!route) {
      route = this.open(tenantId);
      this.routes.set(tenantId, route);
    }
    const joined = route;
    let sinks = joined.everything;
    if (transferId !== undefined) {
      sinks = joined.byTransfer.get(transferId) ?? new Set();
      joined.byTransfer.set(transferId, sinks);
    }
    sinks.add(sink);
    joined.sinks++;
    const remove = () => this.remove(tenantId, joined, transferId, sinks, sink);
    try {
      await joined.subscribed;
    } catch (error) {
      remove();
      throw error;
    }
    return remove;
  }

  private open(tenantId: string): TenantRoute {
    const route: TenantRoute = { everything: new Set(), byTransfer: new Map(), sinks: 0, subscribed: Promise.resolve(() => {}) };
    route.subscribed = this.bus.subscribe(tenantTopic(tenantId), {
      message: (payload) => {
        for (const update of reviveDates(JSON.parse(payload) as TransferUpdate[])) {
          for (const sink of route.everything) sink.deliver(update);
          for (const sink of route.byTransfer.get(update.transfer.id) ?? []) sink.deliver(update);
        }
      },
      interrupted: (reason) => {
        if (this.routes.get(tenantId) === route) this.routes.delete(tenantId);
        for (const sink of [...route.everything, ...[...route.byTransfer.values()].flatMap((sinks) => [...sinks])]) sink.interrupted(reason);
      },
    });
    // Awaited by every sink that joins; this keeps a rejection nobody is waiting for yet quiet.
    route.subscribed.catch(() => {});
    return route;
  }

  private remove(tenantId: string, route: TenantRoute, transferId: string | undefined, sinks: Set<UpdateSink>, sink: UpdateSink): void {
    if (!sinks.delete(sink)) return;
    if (transferId !== undefined && sinks.size === 0) route.byTransfer.delete(transferId);
    if (--route.sinks > 0) return;
    if (this.routes.get(tenantId) === route) this.routes.delete(tenantId);
    route.subscribed.then(
      (unsubscribe) => unsubscribe(),
      () => {},
    );
  }
}
