import type { Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SuppressAddressDocument, TransferUpdatedDocument } from "../generated/graphql.js";
import { startFakeCpaas } from "../helpers/fake-cpaas.js";
import { graphql, subscribe, wsClient } from "../helpers/graphql.js";
import { startPrivateRedisCluster, type PrivateRedisCluster } from "../helpers/private-redis-cluster.js";
import { eventIdsInOrder, resumingSubscriber } from "../helpers/resuming-subscriber.js";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.js";
import { tokenFor } from "../helpers/server.js";
import { createTestDatabase, hasPostgres } from "../helpers/services.js";
import { sentTransfer } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { click, postReceipt } from "../helpers/webhooks.js";

const topicOf = (tenantId: string) => `ackline.tenant.${tenantId}`;
/** Per token, counted in the cluster: more than the set-up's transfers, so only the rate-limit test reaches it. */
const MUTATIONS_PER_MINUTE = 50;

/**
 * Two Ackline instances (processes of their own, so anything that would end one shows) on one
 * PostgreSQL and a Redis Cluster of the test's own: three masters, started by the test (never
 * skipped under CI; a missing redis-server fails it). Each tenant's topic lives on the shard
 * that owns its slot.
 */
describe.runIf(hasPostgres() || process.env.CI === "true")("pubsub on a Redis Cluster", () => {
  let cluster: PrivateRedisCluster;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let cpaas: Awaited<ReturnType<typeof startFakeCpaas>>;
  let instances: ServerProcess[] = [];
  const clients: Client[] = [];
  /** One tenant per shard master, whose topic that shard owns, with a sent transfer. */
  const perShard = new Map<string, Awaited<ReturnType<typeof sentTransfer>> & { tenant: string; token: string }>();

  beforeAll(async () => {
    cluster = await startPrivateRedisCluster(3);
    database = await createTestDatabase();
    cpaas = await startFakeCpaas();
    const env = { DATABASE_URL: database!.url, REDIS_CLUSTER_URLS: cluster.urls.join(","), CPAAS_API_URL: cpaas.url, RATE_LIMIT_MUTATIONS: `${MUTATIONS_PER_MINUTE}/1m` };
    // One after the other: the first migrates the database.
    instances = [await startServerProcess(env), await startServerProcess(env)];
    for (let attempt = 0; perShard.size < 3 && attempt < 40; attempt++) {
      const tenant = uniqueTenant(`cluster${attempt}`);
      const owner = cluster.ownerOf(topicOf(tenant));
      if (perShard.has(owner)) continue;
      const token = await tokenFor(tenant);
      perShard.set(owner, { ...(await sentTransfer(instances[attempt % 2]!, cpaas, token, `+1416555${String(5000 + attempt)}`)), tenant, token });
    }
  }, 120_000);
  afterAll(async () => {
    for (const client of clients) await client.dispose();
    for (const instance of instances) await instance.stop();
    await cpaas?.close();
    await database?.drop();
    await cluster?.close();
  });

  const client = (instance: ServerProcess, token: string): Client => {
    const created = wsClient(instance.wsUrl, { Authorization: `Bearer ${token}` });
    clients.push(created);
    return created;
  };
  const ready = async (instance: ServerProcess) => fetch(`${instance.url}/readyz`, { signal: AbortSignal.timeout(5000) });

  it("subscribers on both instances get the events of tenants whose topics live on different shards, over sharded channels", async () => {
    for (const instance of instances) {
      const answer = await ready(instance);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ status: "ready", database: "postgres", pubsub: "redis-cluster" });
    }
    expect(perShard.size).toBe(3);

    const watchers = [...perShard.entries()].flatMap(([owner, sent]) =>
      instances.map((instance) => ({ owner, sent, updates: subscribe(client(instance, sent.token), TransferUpdatedDocument, { id: sent.transfer.id }) })),
    );
    for (const { updates } of watchers) expect((await updates.next(15_000)).data?.transferUpdated).toMatchObject({ event: null });
    // Each topic is subscribed on its own shard, once per instance, as a sharded channel (not a plain one).
    for (const [owner, sent] of perShard) {
      expect(await cluster.ask(owner, "PUBSUB", "SHARDNUMSUB", topicOf(sent.tenant))).toEqual([topicOf(sent.tenant), 2]);
      expect(await cluster.ask(owner, "PUBSUB", "NUMSUB", topicOf(sent.tenant))).toEqual([topicOf(sent.tenant), 0]);
    }

    // Each transfer's click goes to one instance or the other; whichever folds it, every subscriber gets it.
    const t0 = Date.now();
    let index = 0;
    for (const sent of perShard.values()) {
      expect((await postReceipt(instances[index++ % 2]!.url, click(sent.providerMessageId, t0))).status).toBe(200);
    }
    for (const { sent, updates } of watchers) {
      const update = (await updates.next(15_000)).data?.transferUpdated;
      expect(update).toMatchObject({ transfer: { id: sent.transfer.id }, event: { event: "ACTION", transferId: sent.transfer.id } });
    }
    for (const instance of instances) expect(instance.exit()).toBeNull();
  }, 60_000);

  it("rate limits are counted in the cluster, shared by both instances: past the limit a token is refused on either", async () => {
    const limited = await tokenFor(uniqueTenant("cluster-limit"));
    const suppress = (index: number) => graphql(instances[index % 2]!.url, SuppressAddressDocument, { input: { phone: `+1416555${String(8000 + index)}` } }, limited);
    for (let index = 0; index < MUTATIONS_PER_MINUTE; index++) expect((await suppress(index)).body.errors).toBeUndefined();
    for (const index of [MUTATIONS_PER_MINUTE, MUTATIONS_PER_MINUTE + 1]) {
      expect((await suppress(index)).body.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED" });
    }
  }, 60_000);

  it("a shard that goes down interrupts only its own topics' subscribers and ends no process; they resume with no gap once it is back", async () => {
    const [first, second] = [...perShard.entries()];
    const [downOwner, down] = first!;
    const up = second![1];
    const onDown = instances.map((instance) => subscribe(client(instance, down.token), TransferUpdatedDocument, { id: down.transfer.id }));
    const onUp = instances.map((instance) => subscribe(client(instance, up.token), TransferUpdatedDocument, { id: up.transfer.id }));
    for (const updates of [...onDown, ...onUp]) expect((await updates.next(15_000)).data?.transferUpdated).toMatchObject({ event: null });

    await cluster.stop(downOwner);

    // Told, with where to resume, on both instances.
    const cursors: string[] = [];
    for (const updates of onDown) {
      const interruption = await updates.next(10_000).then(
        () => "an update",
        (error: Error) => error.message,
      );
      expect(interruption).toContain("SUBSCRIPTION_INTERRUPTED");
      cursors.push((JSON.parse(interruption) as Array<{ extensions: { cursor: string } }>)[0]!.extensions.cursor);
    }
    // The other shards carry on: a click on the live shard's transfer reaches both of its subscribers.
    const t0 = Date.now();
    expect((await postReceipt(instances[0]!.url, click(up.providerMessageId, t0))).status).toBe(200);
    for (const updates of onUp) expect((await updates.next(15_000)).data?.transferUpdated).toMatchObject({ event: { event: "ACTION" } });
    // Webhooks for the downed shard's transfer are still acknowledged: PostgreSQL holds them.
    expect((await postReceipt(instances[1]!.url, click(down.providerMessageId, t0 + 1))).status).toBe(200);
    for (const instance of instances) {
      expect((await fetch(`${instance.url}/healthz`)).status).toBe(200);
      expect((await ready(instance)).status).toBe(503);
      expect(instance.exit()).toBeNull();
    }

    await cluster.start(downOwner);
    for (const instance of instances) await eventually(async () => ((await ready(instance)).status === 200 ? true : undefined), "/readyz to see the shard again", 30_000);

    // Resumed with each interruption's cursor: the click stored during the outage, then a live one.
    const resumed = instances.map((instance, i) => resumingSubscriber(client(instance, down.token), down.transfer.id, { after: cursors[i] }));
    await eventually(() => (resumed.every((watcher) => watcher.events.length >= 1) ? true : undefined), "the outage's click to be replayed");
    expect((await postReceipt(instances[0]!.url, click(down.providerMessageId, t0 + 2))).status).toBe(200);
    await eventually(() => (resumed.every((watcher) => watcher.events.length >= 2) ? true : undefined), "a live click after the shard came back");
    const stored = await eventIdsInOrder(database!.url, down.transfer.id);
    for (const watcher of resumed) {
      watcher.stop();
      expect(watcher.failures).toEqual([]);
      expect(watcher.events.map((event) => event.id)).toEqual(stored.slice(-2));
    }
    for (const instance of instances) expect(instance.exit()).toBeNull();
  }, 120_000);
});
