import Fastify from "fastify";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { GroupCommitter } from "../src/domain/group-commit.js";
import { generic } from "../src/webhooks/providers/generic.js";
import { serveOverIpc } from "./child.js";

/**
 * The floor under Ackline's ingest: the least a durable webhook door can do on this machine.
 * Fastify with a raw body, Ackline's own `generic` verify + normalize, and the same group commit
 * (two lanes, batches up to 200) of one `INSERT … ON CONFLICT DO NOTHING` per batch, answered once
 * committed. No correlation, no statuses, no publish: what is left is HTTP, HMAC, JSON and a
 * durable commit. Configured by DATABASE_URL and WEBHOOK_GENERIC_SECRET.
 */
serveOverIpc(async () => {
  const sql = postgres(process.env.DATABASE_URL!, { max: 2, prepare: true, onnotice: () => {} });
  await sql`CREATE TABLE IF NOT EXISTS floor_events (id bigserial PRIMARY KEY, dedupe_key text UNIQUE NOT NULL, raw jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())`;
  const secrets = { generic: process.env.WEBHOOK_GENERIC_SECRET };
  const committer = new GroupCommitter<{ dedupeKey: string; raw: string }, void>(
    async (rows) => {
      await sql`INSERT INTO floor_events (dedupe_key, raw)
        SELECT * FROM unnest(${rows.map((row) => row.dedupeKey)}::text[], ${rows.map((row) => row.raw)}::jsonb[]) ON CONFLICT DO NOTHING`;
      return rows.map(() => undefined);
    },
    { maxBatch: 200, concurrency: 2 },
  );

  const app = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  app.post("/webhooks/generic", async (request, reply) => {
    const rawBody = request.body as Buffer;
    const { events } = generic.parse(rawBody, { headers: request.headers, url: request.url }, secrets, new Date());
    await committer.submit(events.map((event) => ({ dedupeKey: event.dedupeKey, raw: JSON.stringify(event.raw) })));
    return reply.send({ received: events.length });
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await sql.end({ timeout: 2 });
    },
  };
});
