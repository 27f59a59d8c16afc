import type { IncomingHttpHeaders } from "node:http";
import { expect } from "vitest";
import type { NormalizedEvent } from "../../src/domain/model.js";
import { type ParsedDelivery, type WebhookRequest, WebhookRejection } from "../../src/webhooks/provider.js";

/** What a door sees of a request: these headers, on the URL the provider called. */
export function webhookRequest(headers: IncomingHttpHeaders, url = "https://ackline.example.test/webhooks/test"): WebhookRequest {
  return { headers, url };
}

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

/** The WebhookRejection an async parse rejects with (fails the test if it resolved). */
export async function asyncRejection(promise: Promise<unknown>): Promise<WebhookRejection> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  return rejection(() => {
    if (outcome) throw outcome.error;
  });
}

/** The one event a delivery must carry (and no template update). */
export function onlyEvent(delivery: ParsedDelivery): NormalizedEvent {
  expect(delivery.templateUpdates).toEqual([]);
  expect(delivery.events).toHaveLength(1);
  return delivery.events[0]!;
}
