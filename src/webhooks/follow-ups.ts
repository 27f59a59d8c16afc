import type { ReplayCache } from "./replay-cache.js";
import { retryLater, unauthorized, type ParsedDelivery } from "./provider.js";
import { snsUrl } from "./sns-certificates.js";

const CONFIRM_TIMEOUT_MS = 10_000;

/** Visits an SNS SubscribeURL (SNS's hosts only, no redirects): that confirms the subscription. */
export async function confirmSnsSubscription(
  subscribeUrl: string,
  fetch: (url: string, init: RequestInit) => Promise<Response> = (url, init) => globalThis.fetch(url, init),
): Promise<void> {
  const url = snsUrl(subscribeUrl);
  if (!url) throw new Error(`refusing to confirm a subscription at ${subscribeUrl}: not an SNS URL`);
  const response = await fetch(url.href, { redirect: "error", signal: AbortSignal.timeout(CONFIRM_TIMEOUT_MS) });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`SNS ConfirmSubscription answered HTTP ${response.status}`);
}

/**
 * What a verified delivery asks of the side-door besides storing its events: a single-use token
 * is checked before it is accepted and spent only once it is durable (a delivery answered 503
 * stays retryable), and an SNS subscription is confirmed once its confirmation is accepted.
 */
export class DeliveryFollowUps {
  constructor(
    private readonly replayCache: ReplayCache,
    private readonly confirmSubscription: (subscribeUrl: string) => Promise<void> = confirmSnsSubscription,
  ) {}

  /** A token already spent is a replay: refused (401). */
  async refuseReplay(provider: string, delivery: ParsedDelivery, now = new Date()): Promise<void> {
    if (!delivery.replayToken) return;
    let spent: boolean;
    try {
      spent = await this.replayCache.isSpent(provider, delivery.replayToken.token, now);
    } catch (error) {
      throw retryLater(`replay cache unavailable: ${(error as Error).message}`);
    }
    if (spent) throw unauthorized("this signature's token was used before: a replay");
  }

  /** Once the delivery is durable. A failure here is answered 503, so the provider retries. */
  async afterAccepted(provider: string, delivery: ParsedDelivery, now = new Date()): Promise<void> {
    if (delivery.replayToken) await this.replayCache.spend(provider, delivery.replayToken, now);
    if (delivery.confirmSubscription) await this.confirmSubscription(delivery.confirmSubscription);
  }
}
