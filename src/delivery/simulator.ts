import { createHmac, randomBytes } from "node:crypto";
import type { Logger } from "../logger.js";
import { type FetchLike, type GenericCapabilityAnswer, type GenericOtpBody, type GenericSendBody, OTP_TEMPLATE_ID } from "./generic-cpaas.adapter.js";

interface Scenario {
  /** What the capability query says about RCS (default capable). */
  rcsCapable?: boolean;
  /** An error answer instead of acceptance, for this attempt. */
  refuse?: (body: GenericSendBody, attempt: number) => { status: number; error: string; headers?: Record<string, string> } | undefined;
  /** The receipts that follow acceptance (default sent, delivered, read). */
  receipts?: string[];
  slowdown?: number;
}

/**
 * Failure modes, chosen by the recipient number's last four digits, so every delivery path can be
 * shown in the embedded demo and exercised in tests.
 */
export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  // Not RCS-capable: the capability query says so, and RCS is refused with 404 (SMS goes through).
  "0404": { rcsCapable: false, refuse: (body) => (body.type === "rcs" ? { status: 404, error: "recipient is not RCS-capable" } : undefined) },
  // Rate limited once, with Retry-After.
  "0429": { refuse: (_body, attempt) => (attempt === 1 ? { status: 429, error: "rate limited", headers: { "retry-after": "1" } } : undefined) },
  // The provider is briefly down: two 503s, then it accepts.
  "0500": { refuse: (_body, attempt) => (attempt <= 2 ? { status: 503, error: "temporarily unavailable" } : undefined) },
  // Permanently invalid number.
  "0422": { refuse: () => ({ status: 422, error: "invalid destination number" }) },
  // Accepted and sent, then failed on the network.
  "0410": { receipts: ["sent", "failed"] },
  // Accepted, never delivered: no receipt ever comes.
  "0000": { receipts: [] },
  // Slow delivery: each step takes ten times as long.
  "0999": { slowdown: 10 },
};

/**
 * The built-in CPaaS: answers the generic send API in-process and, like a real provider, posts
 * signed receipts back to `/webhooks/generic`, one step at a time: sent → delivered → read.
 * It drops a repeated `client_message_id`, as the real API does, and fails on request (SCENARIOS).
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

  const attempts = new Map<string, number>();
  const scheduleReceipts = (providerMessageId: string, body: GenericSendBody, events: string[], stepMs: number) => {
    events.forEach((event, index) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void postReceipt(providerMessageId, body, event);
      }, stepMs * (index + 1));
      timers.add(timer);
    });
  };

  const simulatedFetch = async (url: string, init: RequestInit): Promise<Response> => {
    const capabilityOf = /\/v1\/capabilities\/([^/]+)$/.exec(url)?.[1];
    if (capabilityOf) {
      const answer: GenericCapabilityAnswer = { rcs: SCENARIOS[decodeURIComponent(capabilityOf).slice(-4)]?.rcsCapable ?? true };
      return Response.json(answer);
    }
    const sent = JSON.parse(init.body as string) as GenericSendBody | GenericOtpBody;
    if (sent.template_id === OTP_TEMPLATE_ID) {
      // A one-time code has no receipts to simulate; in embedded mode the log is the recipient's phone.
      options.log.info({ to: sent.to, transferId: sent.params.transfer_id, code: (sent as GenericOtpBody).params.code }, "download code (simulated SMS)");
      return Response.json({ id: `sim_${randomBytes(10).toString("hex")}` }, { status: 202 });
    }
    const body = sent as GenericSendBody;
    const known = accepted.get(body.client_message_id);
    if (known) return Response.json({ id: known, duplicate: true }, { status: 200 });
    const attempt = (attempts.get(body.client_message_id) ?? 0) + 1;
    attempts.set(body.client_message_id, attempt);
    const scenario = SCENARIOS[body.to.slice(-4)];
    const refusal = scenario?.refuse?.(body, attempt);
    if (refusal) return Response.json({ error: refusal.error }, { status: refusal.status, headers: refusal.headers });

    const id = `sim_${randomBytes(10).toString("hex")}`;
    accepted.set(body.client_message_id, id);
    scheduleReceipts(id, body, scenario?.receipts ?? ["sent", "delivered", "read"], options.stepMs * (scenario?.slowdown ?? 1));
    return Response.json({ id }, { status: 202 });
  };

  return Object.assign(simulatedFetch, {
    stop() {
      timers.forEach(clearTimeout);
      timers.clear();
    },
  });
}
