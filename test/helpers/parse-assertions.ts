import { expect } from "vitest";
import type { NormalizedEvent } from "../../src/domain/model.js";
import { type ParsedDelivery, WebhookRejection } from "../../src/webhooks/provider.js";

/** Runs `fn` and returns the WebhookRejection it threw (fails the test if it threw nothing else). */
export function rejection(fn: () => unknown): WebhookRejection {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookRejection);
    return error as WebhookRejection;
  }
  throw new Error("expected a WebhookRejection, but nothing was thrown");
}

/** The one event a delivery must carry (and no template update). */
export function onlyEvent(delivery: ParsedDelivery): NormalizedEvent {
  expect(delivery.templateUpdates).toEqual([]);
  expect(delivery.events).toHaveLength(1);
  return delivery.events[0]!;
}
