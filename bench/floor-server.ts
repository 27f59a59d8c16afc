import Fastify from "fastify";
import type { AddressInfo } from "node:net";
import { generic } from "../src/webhooks/providers/generic.js";
import { serveOverIpc } from "./child.js";
import { openFloorStore } from "./floor-store.js";

/**
 * Ackline's floor: what a door built from Ackline's own parts costs before it does anything with
 * an event. Fastify with a raw body, the `generic` provider's verify + normalize (zod), then the
 * floors' group-committed append (`floor-store.ts`), answered once committed. Beside the minimal
 * door (`door-server.ts`, same append) it shows what the framework and the validation cost.
 * Configured by DATABASE_URL and WEBHOOK_GENERIC_SECRET.
 */
serveOverIpc(async () => {
  const store = await openFloorStore(process.env.DATABASE_URL!);
  const secrets = { generic: process.env.WEBHOOK_GENERIC_SECRET };
  const app = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  app.post("/webhooks/generic", async (request, reply) => {
    const rawBody = request.body as Buffer;
    const { events } = generic.parse(rawBody, { headers: request.headers, url: request.url }, secrets, new Date());
    await store.append(events.map((event) => ({ dedupeKey: event.dedupeKey, raw: JSON.stringify(event.raw) })));
    return reply.send({ received: events.length });
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
});
