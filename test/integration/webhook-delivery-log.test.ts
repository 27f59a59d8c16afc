import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { newDeliveryId } from "../../src/domain/ids.js";
import { generic } from "../../src/webhooks/providers/generic.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { CreateWebhookSourceDocument, ReplayWebhookDeliveriesDocument, type WebhookDeliveriesQueryVariables, WebhookDeliveriesDocument } from "../generated/graphql.js";
import { errorCodes, graphql } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { providerFixtures } from "../helpers/signed-deliveries.js";
import { createSnsSigner } from "../helpers/sns.js";
import { createTransfer, getTransfer, history, sentTransfer } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { basicAuthorization, genericSignature, postTo } from "../helpers/webhooks.js";

const snsSigner = await createSnsSigner();
const fixtures = providerFixtures(snsSigner);

async function deliveries(server: TestServer, token: string, variables: WebhookDeliveriesQueryVariables = {}) {
  return (await graphql(server.url, WebhookDeliveriesDocument, variables, token)).body;
}

async function listed(server: TestServer, token: string, variables: WebhookDeliveriesQueryVariables) {
  const page = await deliveries(server, token, variables);
  expect(page.errors).toBeUndefined();
  return page.data!.webhookDeliveries.edges.map((edge) => edge.node);
}

const replay = (server: TestServer, token: string, ids: string[]) => graphql(server.url, ReplayWebhookDeliveriesDocument, { ids }, token);

async function createSource(server: TestServer, token: string, provider: string, secrets: Record<string, string>) {
  const result = await graphql(server.url, CreateWebhookSourceDocument, { input: { provider, secrets } }, token);
  expect(result.body.errors).toBeUndefined();
  return result.body.data!.createWebhookSource;
}

/** The provider message id a logged generic delivery names. */
const messageIdOf = (delivery: { body: string }) => (JSON.parse(delivery.body) as { message_id: string }).message_id;

const signedGeneric = (url: string, payload: Record<string, unknown> | string, secret: string) => {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  return postTo(url, body, { "x-webhook-signature": genericSignature(body, secret) });
};

describe("webhook delivery log", () => {
  let server: TestServer;
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let sql: postgres.Sql;
  let acme: string;
  const secret = "delivery-log-generic-secret";

  beforeAll(async () => {
    cpaas = await startFakeCpaas();
    server = await startTestServer({ env: { CPAAS_API_URL: cpaas.url, SNS_CERTIFICATES: JSON.stringify(snsSigner.certificates) } });
    sql = postgres(server.databaseUrl!, { max: 2, onnotice: () => {} });
    acme = await tokenFor(uniqueTenant("acme"));
  });
  afterAll(async () => {
    await sql?.end();
    await server?.close();
    await cpaas?.close();
  });

  describe("succeeding", () => {
    it("keeps accepted, duplicate and refused (401, 400) deliveries with their status, reason and raw body, newest first", async () => {
      const { transfer, providerMessageId } = await sentTransfer(server, cpaas, acme, "+14165550141");
      const source = await createSource(server, acme, "generic", { secret });
      const delivered = JSON.stringify({ event: "message.delivered", timestamp: new Date().toISOString(), message_id: providerMessageId });

      expect((await signedGeneric(source.url, delivered, secret)).status).toBe(200);
      expect((await signedGeneric(source.url, delivered, secret)).status).toBe(200);
      expect((await postTo(source.url, delivered, { "x-webhook-signature": genericSignature(delivered, "not-the-secret") })).status).toBe(401);
      expect((await signedGeneric(source.url, "{not json", secret)).status).toBe(400);

      // Refusals are logged off the answer's path: shortly after.
      const logged = await eventually(async () => {
        const nodes = await listed(server, acme, { sourceId: source.id });
        return nodes.length === 4 ? nodes : undefined;
      }, "four logged deliveries");
      expect(logged.map(({ outcome, statusCode, eventCount }) => ({ outcome, statusCode, eventCount }))).toEqual([
        { outcome: "REJECTED", statusCode: 400, eventCount: 0 },
        { outcome: "REJECTED", statusCode: 401, eventCount: 0 },
        { outcome: "DUPLICATE", statusCode: 200, eventCount: 1 },
        { outcome: "ACCEPTED", statusCode: 200, eventCount: 1 },
      ]);
      expect(logged.map((delivery) => delivery.body)).toEqual(["{not json", delivered, delivered, delivered]);
      expect(logged[0]!.reason).toMatch(/JSON/);
      expect(logged[1]!.reason).toMatch(/signature/);
      expect(logged.slice(2).map((delivery) => delivery.reason)).toEqual([null, null]);
      expect(new Set(logged.map((delivery) => delivery.sourceId))).toEqual(new Set([source.id]));
      expect(logged.every((delivery) => delivery.provider === "generic" && !Number.isNaN(Date.parse(delivery.receivedAt)))).toBe(true);

      // The event names the delivery it came in; the body is kept once, in the log.
      const [event] = await sql`SELECT delivery_id FROM receipt_events WHERE provider_message_id = ${providerMessageId} AND source = 'generic'`;
      expect(event!.delivery_id).toBe(logged[3]!.id);
      expect((await getTransfer(server, acme, transfer.id))!.messages[0]!.status).toBe("DELIVERED");
    });

    it("pages newest first with first/after, never repeating or skipping, and filters by source and outcome", async () => {
      const source = await createSource(server, acme, "generic", { secret });
      const other = await createSource(server, acme, "generic", { secret });
      for (let index = 0; index < 7; index += 1) {
        const payload = { event: "message.delivered", timestamp: new Date().toISOString(), message_id: `pm_page_${index}` };
        expect((await signedGeneric(source.url, payload, secret)).status).toBe(200);
      }
      expect((await signedGeneric(other.url, { event: "message.delivered", timestamp: new Date().toISOString(), message_id: "pm_other" }, secret)).status).toBe(200);
      expect((await signedGeneric(other.url, "[]", "wrong")).status).toBe(401);

      const all = await listed(server, acme, { sourceId: source.id, first: 100 });
      expect(all).toHaveLength(7);
      expect(all.map((delivery) => messageIdOf(delivery))).toEqual([6, 5, 4, 3, 2, 1, 0].map((index) => `pm_page_${index}`));

      const paged: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 5; pages += 1) {
        const page = await deliveries(server, acme, { sourceId: source.id, first: 3, after });
        const connection = page.data!.webhookDeliveries;
        paged.push(...connection.edges.map((edge) => edge.node.id));
        if (!connection.pageInfo.hasNextPage) break;
        after = connection.pageInfo.endCursor!;
      }
      expect(paged).toEqual(all.map((delivery) => delivery.id));

      const refused = await eventually(async () => {
        const nodes = await listed(server, acme, { sourceId: other.id, outcome: "REJECTED" });
        return nodes.length > 0 ? nodes : undefined;
      }, "the refused delivery to be logged");
      expect(refused.map((delivery) => [delivery.sourceId, delivery.outcome])).toEqual([[other.id, "REJECTED"]]);
      const accepted = await listed(server, acme, { sourceId: other.id, outcome: "ACCEPTED" });
      expect(accepted.map((delivery) => messageIdOf(delivery))).toEqual(["pm_other"]);
      // Without a source: every source of the tenant.
      const everything = await listed(server, acme, { first: 100 });
      expect(everything.map((delivery) => delivery.id)).toEqual(expect.arrayContaining([...all, ...accepted, ...refused].map((delivery) => delivery.id)));
    });

    it("replays an accepted delivery as duplicates, changing no status; the replay is audited", async () => {
      const { transfer, providerMessageId } = await sentTransfer(server, cpaas, acme, "+14165550142");
      const source = await createSource(server, acme, "generic", { secret });
      const read = { event: "message.read", timestamp: new Date().toISOString(), message_id: providerMessageId };
      expect((await signedGeneric(source.url, read, secret)).status).toBe(200);
      const before = await getTransfer(server, acme, transfer.id);
      const [delivery] = await listed(server, acme, { sourceId: source.id });

      const replayed = await replay(server, acme, [delivery!.id]);
      expect(replayed.body.errors).toBeUndefined();
      expect(replayed.body.data).toEqual({ replayWebhookDeliveries: { replayed: 1, stored: 0, duplicates: 1 } });
      expect(await getTransfer(server, acme, transfer.id)).toEqual(before);
      expect((await history(server, acme, transfer.id)).filter((event) => event.event === "READ")).toHaveLength(1);

      const [audit] = await sql`SELECT action, details FROM audit_log WHERE action = 'webhook_delivery.replay' AND details->'deliveryIds' ? ${delivery!.id}`;
      expect(audit!.details).toMatchObject({ deliveryIds: [delivery!.id], replayed: 1, stored: 0, duplicates: 1 });
    });

    it("replays a delivery whose reply matched no transfer: a duplicate, but once the transfer exists it is matched", async () => {
      const phone = "+14165550143";
      const credentials = { username: "enablex", password: "delivery-log-enablex" };
      const source = await createSource(server, acme, "enablex", credentials);
      const reply = { type: "text", phone, request_id: `req_${Date.now()}`, text: "Got it, thanks", timestamp: new Date().toISOString() };
      const answered = await postTo(source.url, JSON.stringify(reply), { authorization: basicAuthorization(`${credentials.username}:${credentials.password}`) });
      expect(answered.status).toBe(200);
      const [delivery] = await listed(server, acme, { sourceId: source.id });
      expect(delivery!.outcome).toBe("ACCEPTED");

      const transfer = await createTransfer(server, acme, phone);
      expect((await history(server, acme, transfer.id)).some((event) => event.event === "REPLY")).toBe(false);
      const replayed = await replay(server, acme, [delivery!.id]);
      expect(replayed.body.data).toEqual({ replayWebhookDeliveries: { replayed: 1, stored: 0, duplicates: 1 } });
      await eventually(async () => ((await history(server, acme, transfer.id)).some((event) => event.event === "REPLY") ? true : undefined), "the replayed reply to be matched");
      const [audit] = await sql`SELECT details FROM audit_log WHERE action = 'webhook_delivery.replay' AND details->'deliveryIds' ? ${delivery!.id}`;
      expect(audit!.details).toMatchObject({ stored: 0, duplicates: 1, rematched: 1 });

      // Matched now: replaying again changes nothing.
      expect((await replay(server, acme, [delivery!.id])).body.data).toEqual({ replayWebhookDeliveries: { replayed: 1, stored: 0, duplicates: 1 } });
      expect((await history(server, acme, transfer.id)).filter((event) => event.event === "REPLY")).toHaveLength(1);
    });

    it("replays a delivery refused for a status unknown then, once a fix maps it: its event is stored and applied", async () => {
      const { transfer, providerMessageId } = await sentTransfer(server, cpaas, acme, "+14165550144");
      const source = await createSource(server, acme, "generic", { secret });
      const seen = { event: "message.seen", timestamp: new Date().toISOString(), message_id: providerMessageId };
      const refused = await signedGeneric(source.url, seen, secret);
      expect(refused.status).toBe(400);
      const [delivery] = await eventually(async () => {
        const nodes = await listed(server, acme, { sourceId: source.id, outcome: "REJECTED" });
        return nodes.length > 0 ? nodes : undefined;
      }, "the refused delivery to be logged");
      expect(delivery!.reason).toMatch(/unknown event "message.seen"/);

      // Before the fix a replay still fails, and stores nothing.
      const early = await replay(server, acme, [delivery!.id]);
      expect(errorCodes(early.body)).toEqual(["BAD_USER_INPUT"]);

      // The fix: "message.seen" is what this provider now calls a read receipt.
      const normalize = generic.normalize.bind(generic);
      const fixed = vi.spyOn(generic, "normalize").mockImplementation((rawBody, request, now) =>
        normalize(Buffer.from(rawBody.toString("utf8").replace('"message.seen"', '"message.read"')), request, now),
      );
      try {
        const replayed = await replay(server, acme, [delivery!.id]);
        expect(replayed.body.data).toEqual({ replayWebhookDeliveries: { replayed: 1, stored: 1, duplicates: 0 } });
      } finally {
        fixed.mockRestore();
      }
      await eventually(async () => ((await getTransfer(server, acme, transfer.id))!.messages[0]!.status === "READ" ? true : undefined), "the replayed READ to be applied");
      const [event] = await sql`SELECT delivery_id, correlation->>'tenantId' AS tenant FROM receipt_events WHERE provider_message_id = ${providerMessageId} AND event = 'READ'`;
      expect(event!.delivery_id).toBe(delivery!.id);
    });

    it.each(fixtures.map((each) => [each.provider, each] as const))("%s: a logged delivery normalizes again from its body and logged request alone", async (_provider, fixture) => {
      const secrets = fixture.secrets(`replay-${fixture.provider}`);
      const source = await createSource(server, acme, fixture.provider, secrets);
      const { body, headers } = await fixture.sign(source.url, secrets);
      expect((await postTo(source.url, body, headers)).status).toBe(200);
      const [delivery] = await listed(server, acme, { sourceId: source.id });
      expect(delivery!.outcome).toBe("ACCEPTED");
      const replayed = await replay(server, acme, [delivery!.id]);
      expect(replayed.body.errors).toBeUndefined();
      expect(replayed.body.data).toEqual({ replayWebhookDeliveries: { replayed: 1, stored: 0, duplicates: delivery!.eventCount } });
    });

    it("deletes deliveries older than WEBHOOK_LOG_RETENTION_DAYS (an instance started with 2 days), keeping the newer ones", async () => {
      const source = await createSource(server, acme, "generic", { secret });
      expect((await signedGeneric(source.url, { event: "message.delivered", timestamp: new Date().toISOString(), message_id: "pm_kept" }, secret)).status).toBe(200);
      const old = new Date(Date.now() - 3 * 24 * 60 * 60 * 1000);
      const oldIds = Array.from({ length: 3 }, () => newDeliveryId(old));
      for (const id of oldIds) {
        await sql`INSERT INTO webhook_deliveries (id, tenant_id, source_id, provider, received_at, outcome, status_code, event_count, body, request)
          VALUES (${id}, ${"old-tenant"}, ${source.id}, 'generic', ${old}, 'ACCEPTED', 200, 0, ${Buffer.from("{}")}, ${sql.json({ url: "http://x", headers: {} })})`;
      }
      // A second instance on the same database, keeping two days: it expires on start.
      const expiring = await startTestServer({ databaseUrl: server.databaseUrl, env: { WEBHOOK_LOG_RETENTION_DAYS: "2" } });
      try {
        await eventually(async () => {
          const [row] = await sql`SELECT count(*)::int AS left FROM webhook_deliveries WHERE id = ANY(${oldIds}::uuid[])`;
          return row!.left === 0 ? true : undefined;
        }, "the old deliveries to be deleted");
      } finally {
        await expiring.close();
      }
      expect((await listed(server, acme, { sourceId: source.id })).map((delivery) => messageIdOf(delivery))).toEqual(["pm_kept"]);
    });
  });

  describe("failing", () => {
    it("another tenant sees none of a tenant's deliveries and cannot replay them", async () => {
      const source = await createSource(server, acme, "generic", { secret });
      expect((await signedGeneric(source.url, { event: "message.delivered", timestamp: new Date().toISOString(), message_id: "pm_private" }, secret)).status).toBe(200);
      const [delivery] = await listed(server, acme, { sourceId: source.id });

      const globex = await tokenFor(uniqueTenant("globex"));
      expect(await listed(server, globex, {})).toEqual([]);
      expect(await listed(server, globex, { sourceId: source.id })).toEqual([]);
      const replayed = await replay(server, globex, [delivery!.id]);
      expect(errorCodes(replayed.body)).toEqual(["NOT_FOUND"]);
    });

    it("the server-wide doors' deliveries belong to no tenant: logged, listed to none", async () => {
      const body = JSON.stringify({ event: "message.delivered", timestamp: new Date().toISOString(), message_id: "pm_server_wide" });
      expect((await postTo(`${server.url}/webhooks/generic`, body, { "x-webhook-signature": genericSignature(body) })).status).toBe(200);
      const [row] = await sql<Array<{ id: string; tenant_id: string | null; source_id: string | null; outcome: string }>>`SELECT id, tenant_id, source_id, outcome FROM webhook_deliveries WHERE convert_from(body, 'UTF8') = ${body}`;
      expect(row).toMatchObject({ tenant_id: null, source_id: null, outcome: "ACCEPTED" });
      expect((await listed(server, acme, { first: 100 })).map((delivery) => delivery.id)).not.toContain(row!.id);
      expect(errorCodes((await replay(server, acme, [row!.id])).body)).toEqual(["NOT_FOUND"]);
    });

    it("needs webhooks:admin to list or replay", async () => {
      const readOnly = await tokenFor("acme", { scopes: ["transfers:read", "transfers:write", "receipts:read"] });
      expect(errorCodes(await deliveries(server, readOnly))).toEqual(["FORBIDDEN"]);
      expect(errorCodes((await replay(server, readOnly, [newDeliveryId(new Date())])).body)).toEqual(["FORBIDDEN"]);
    });

    it("refuses a cursor it did not issue, a page too large, and ids that name nothing", async () => {
      expect(errorCodes(await deliveries(server, acme, { after: "bm9wZQ" }))).toEqual(["BAD_USER_INPUT"]);
      expect(errorCodes(await deliveries(server, acme, { first: 101 }))).toEqual(["BAD_USER_INPUT"]);
      expect(errorCodes((await replay(server, acme, [])).body)).toEqual(["BAD_USER_INPUT"]);
      expect(errorCodes((await replay(server, acme, ["not-a-delivery"])).body)).toEqual(["NOT_FOUND"]);
    });
  });
});
