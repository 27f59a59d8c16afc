import { createHmac, randomBytes } from "node:crypto";
import type { Logger } from "../logger.js";
import type { FetchLike, GenericSendBody } from "./generic-cpaas.adapter.js";

/**
 * The built-in CPaaS: answers the generic send API in-process and, like a real provider, posts
 * signed receipts back to `/webhooks/generic`, one step at a time: sent → delivered → read.
 * It drops a repeated `client_message_id`, as the real API does.
 */
export function createSimulatorFetch(options: {
  webhookUrl: () => string;
  secret: string;
  stepMs: number;
  log: Logger;
}): FetchLike & { stop(): void } {
  const accepted = new Map<string, string>();
  const timers = new Set<NodeJS.Timeout>();

  const postReceipt = async (providerMessageId: string, body: GenericSendBody, event: string) => {
    const payload = JSON.stringify({
      event: `message.${event}`,
      timestamp: new Date().toISOString(),
      message_id: providerMessageId,
      recipient: body.to,
      channel: body.type,
      carrier: "SIM-00101",
      metadata: { delivery_code: 200, simulated: true },
    });
    const signature = createHmac("sha256", options.secret).update(payload).digest("hex");
    try {
      const response = await fetch(options.webhookUrl(), {
        method: "POST",
        headers: { "content-type": "application/json", "x-webhook-signature": signature },
        body: payload,
      });
      if (!response.ok) options.log.warn({ status: response.status, event }, "simulator receipt refused");
    } catch (error) {
      options.log.warn({ err: error, event }, "simulator receipt not delivered");
    }
  };

  const simulatedFetch = async (_url: string, init: RequestInit): Promise<Response> => {
    const body = JSON.parse(init.body as string) as GenericSendBody;
    const known = accepted.get(body.client_message_id);
    if (known) return Response.json({ id: known, duplicate: true }, { status: 200 });
    const id = `sim_${randomBytes(10).toString("hex")}`;
    accepted.set(body.client_message_id, id);
    ["sent", "delivered", "read"].forEach((event, index) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void postReceipt(id, body, event);
      }, options.stepMs * (index + 1));
      timers.add(timer);
    });
    return Response.json({ id }, { status: 202 });
  };

  return Object.assign(simulatedFetch, {
    stop() {
      timers.forEach(clearTimeout);
      timers.clear();
    },
  });
}
