import { createServer } from "node:http";
import { hmacSha256, safeEqual } from "../src/webhooks/provider.js";
import { listenOnLoopback, serveOverIpc } from "./child.js";
import { openFloorStore } from "./floor-store.js";

/**
 * The minimal durable door (as `../shared/bench-floor/door.mjs`): `node:http`, the HMAC check,
 * `JSON.parse`, then the floors' group-committed append (`floor-store.ts`), 200 once committed.
 * No framework, no schema: the least a webhook door that never loses an acknowledged event can do
 * on this machine. Configured by DATABASE_URL and WEBHOOK_GENERIC_SECRET.
 */
serveOverIpc(async () => {
  const secret = process.env.WEBHOOK_GENERIC_SECRET!;
  const store = await openFloorStore(process.env.DATABASE_URL!);
  const server = createServer((request, response) => {
    const answer = (status: number) => {
      response.statusCode = status;
      response.end();
    };
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const raw = Buffer.concat(chunks);
      const signature = Buffer.from(String(request.headers["x-webhook-signature"] ?? ""), "hex");
      if (!safeEqual(signature, hmacSha256(secret, raw))) return answer(401);
      const text = raw.toString("utf8");
      let payload: { message_id?: string; event?: string; timestamp?: string };
      try {
        payload = JSON.parse(text) as typeof payload;
      } catch {
        return answer(400);
      }
      store.append([{ dedupeKey: `${payload.message_id}:${payload.event}:${payload.timestamp}`, raw: text }]).then(
        () => answer(200),
        () => answer(503),
      );
    });
  });
  const listening = await listenOnLoopback(server);
  return {
    url: listening.url,
    close: async () => {
      await listening.close();
      await store.close();
    },
  };
});
