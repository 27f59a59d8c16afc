import { DomainError } from "../domain/errors.js";
import type { WebhookDeliveryRecord } from "../domain/model.js";
import type { ReplayNormalizer } from "../domain/webhook-replay.service.js";
import { type NormalizedDelivery, refuseUnindexableKeys, WebhookRejection } from "./provider.js";
import { webhookProviders } from "./providers/index.js";

/** A replay's normalization: the logged delivery's door normalizes its body again, with the URL and headers it was logged with. */
export const normalizeLoggedDelivery: ReplayNormalizer = (delivery: WebhookDeliveryRecord): NormalizedDelivery => {
  const provider = webhookProviders.get(delivery.provider);
  if (!provider) throw new DomainError("FAILED_PRECONDITION", `webhook delivery ${delivery.id} came through ${delivery.provider}, a door this server no longer has`);
  try {
    const normalized = provider.normalize(delivery.body, delivery.request, delivery.receivedAt);
    refuseUnindexableKeys(normalized);
    return normalized;
  } catch (error) {
    if (!(error instanceof WebhookRejection)) throw error;
    throw new DomainError("BAD_USER_INPUT", `webhook delivery ${delivery.id} still cannot be normalized: ${error.message}`, { field: "ids", id: delivery.id });
  }
};
