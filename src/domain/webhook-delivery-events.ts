import type { NormalizedEvent, ReceivedDelivery } from "./model.js";
import type { IncomingEvent } from "./receipt-store.js";

/**
 * A delivery's normalized events as the event log takes them, at the door and on a replay alike:
 * named after their door, pointing at their logged delivery, and, through a tenant's source,
 * allowed to touch only that tenant's messages.
 */
export function deliveryEvents(delivery: Pick<ReceivedDelivery, "id" | "tenantId" | "provider">, events: NormalizedEvent[]): IncomingEvent[] {
  return events.map((event) => ({
    ...event,
    source: delivery.provider,
    deliveryId: delivery.id,
    correlation: delivery.tenantId ? { ...event.correlation, tenantId: delivery.tenantId } : event.correlation,
  }));
}
