import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRawGraphQLSocket, type RawGraphQLSocket } from "../helpers/raw-graphql-ws.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { hasRedis, REDIS_URL } from "../helpers/services.js";
import { createTransfer } from "../helpers/transfers.js";
import { eventually, uniqueTenant } from "../helpers/wait.js";
import { basicAuthorization, enablexAuthorization } from "../helpers/webhooks.js";

/** Low limits, so a test reaches them; the instances trust the test as their proxy, so each test is its own client address. */
const LIMITS = {
  RATE_LIMIT_MUTATIONS: "3/1m",
  RATE_LIMIT_AUTH_FAILURES: "3/1m",
  RATE_LIMIT_RECIPIENT: "4/1m",
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: "2",
  WS_MAX_SOCKETS_PER_TENANT: "2",
  TRUST_PROXY: "127.0.0.1",
};

/** A fresh client address (in 198.18.0.0/15, kept for testing), so no other test's counts are ours. */
const newAddress = () => `198.18.${randomBytes(1)[0]!}.${(randomBytes(1)[0]! % 254) + 1}`;
const from = (address: string) => ({ "x-forwarded-for": address });

const mutation = `mutation ($input: SuppressAddressInput!) { suppressAddress(input: $input) { kind } }`;
const subscription = `subscription ($id: ID!) { transferUpdated(id: $id) { event { event } } }`;

async function post(server: TestServer, body: unknown, headers: Record<string, string>) {
  const response = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body: (await response.json()) as { data?: unknown; errors?: Array<{ extensions?: Record<string, unknown> }> } };
}

/** Opens a graphql-ws socket and sends connection_init: acknowledged, or how the server closed it. */
async function connect(server: TestServer, token: string, headers: Record<string, string>): Promise<{ socket?: RawGraphQLSocket; closed?: number }> {
  try {
    return { socket: await openRawGraphQLSocket(server.wsUrl, { Authorization: `Bearer ${token}` }, headers) };
  } catch (error) {
    const code = /closed before the ack: (\d+)/.exec((error as Error).message)?.[1];
    return { closed: Number(code) };
  }
}

describe.runIf(hasRedis())("rate limits, shared by every instance through Redis", () => {
  let a: TestServer;
  let b: TestServer;
  let redis: Redis;

  beforeAll(async () => {
    a = await startTestServer({ redis: true, env: LIMITS });
    b = await startTestServer({ redis: true, databaseUrl: a.databaseUrl, env: LIMITS });
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await b?.close();
    await a?.close();
  });

  it("mutations per token: past the limit, RATE_LIMITED (429 with Retry-After over HTTP) on either instance and over graphql-ws; queries and other tokens go on", async () => {
    const token = await tokenFor(uniqueTenant("mutations"));
    const suppress = (index: number) => ({ query: mutation, variables: { input: { phone: `+1416555${String(7100 + index)}` } } });
    const auth = { authorization: `Bearer ${token}` };
    for (const [index, server] of [a, b, a].entries()) expect((await post(server, suppress(index), auth)).body.errors).toBeUndefined();

    const refused = await post(b, suppress(3), auth);
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: expect.any(Number) as number });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.body.data ?? null).toBeNull();

    const socket = await openRawGraphQLSocket(a.wsUrl, { Authorization: `Bearer ${token}` });
    try {
      const overWebSocket = await socket.run(suppress(4));
      expect(overWebSocket.kind).toBe("error");
      if (overWebSocket.kind === "error") expect(overWebSocket.errors[0]?.extensions?.code).toBe("RATE_LIMITED");
    } finally {
      socket.close();
    }
    expect((await post(a, { query: "{ suppressions { address } }" }, auth)).status).toBe(200);
    const other = { authorization: `Bearer ${await tokenFor(uniqueTenant("mutations"))}` };
    expect((await post(a, suppress(5), other)).body.errors).toBeUndefined();
  });

  /** The instance that counts an address's last allowed failure tells the others, within moments. */
  const blockedEverywhere = (address: string) =>
    eventually(async () => {
      const answers = await Promise.all([a, b].map((server) => post(server, { query: "{ __typename }" }, { ...from(address), authorization: "Bearer not.a.jwt" })));
      return answers.every((answer) => answer.status === 429) ? true : undefined;
    }, `${address} blocked on both instances`);

  it("failed authentications per address over HTTP: three 401s across instances, then 429 on either, even with a good token; other addresses go on", async () => {
    const address = newAddress();
    const good = await tokenFor(uniqueTenant("auth"));
    for (const server of [a, b, a]) expect((await post(server, { query: "{ suppressions { address } }" }, { ...from(address), authorization: "Bearer not.a.jwt" })).status).toBe(401);
    await blockedEverywhere(address);
    for (const server of [a, b]) {
      const blocked = await post(server, { query: "{ suppressions { address } }" }, { ...from(address), authorization: `Bearer ${good}` });
      expect(blocked.status).toBe(429);
      expect(blocked.body.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      expect(Number(blocked.retryAfter)).toBeGreaterThan(0);
    }
    expect((await post(a, { query: "{ suppressions { address } }" }, { ...from(newAddress()), authorization: `Bearer ${good}` })).status).toBe(200);
  });

  it("failed authentications over graphql-ws: each closes with 4403, then the address's sockets close with 4429, good token or not", async () => {
    const address = newAddress();
    for (const server of [a, b, a]) expect((await connect(server, "not.a.jwt", from(address))).closed).toBe(4403);
    await blockedEverywhere(address);
    expect((await connect(b, await tokenFor(uniqueTenant("ws-auth")), from(address))).closed).toBe(4429);
  });

  it("webhook verification failures per address: 401s, then 429 with Retry-After even for good credentials; accepted deliveries are never counted", async () => {
    const address = newAddress();
    const delivery = () => JSON.stringify({ phone: "+14165557200", request_id: `req_${randomBytes(6).toString("hex")}`, type: "text", text: "hi", timestamp: new Date().toISOString() });
    const enablex = (server: TestServer, authorization: string, headers = from(address)) =>
      fetch(`${server.url}/webhooks/enablex`, { method: "POST", headers: { "content-type": "application/json", authorization, ...headers }, body: delivery() });

    const honest = newAddress();
    for (let index = 0; index < 6; index++) expect((await enablex(index % 2 ? a : b, enablexAuthorization(), from(honest))).status).toBe(200);
    // Nothing was written to Redis for the honest sender's accepted deliveries.
    expect(await redis.keys(`ackline:rate:auth-failures:${honest}`)).toEqual([]);

    for (const server of [a, b, a]) expect((await enablex(server, basicAuthorization("enablex:guess"))).status).toBe(401);
    await blockedEverywhere(address);
    for (const server of [a, b]) {
      const blocked = await enablex(server, enablexAuthorization());
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(await redis.keys(`ackline:rate:auth-failures:${address}`)).toHaveLength(1);
  });

  it("recipient routes per address: past the limit, 429 with Retry-After and a page saying when", async () => {
    const address = newAddress();
    for (const [index, path] of ["/t/tx_a?tok=x", "/u/msg_a?tok=x", "/t/tx_b?tok=x", "/u/msg_b?tok=x"].entries()) {
      expect((await fetch(`${(index % 2 ? b : a).url}${path}`, { headers: from(address) })).status).toBe(403);
    }
    const limited = await fetch(`${a.url}/t/tx_c?tok=x`, { headers: from(address) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.text()).toMatch(/Too many requests/);
    expect((await fetch(`${a.url}/t/tx_c?tok=x`, { headers: from(newAddress()) })).status).toBe(403);
  });

  it("graphql-ws caps: operations at once per socket (RATE_LIMITED, the socket stays), sockets at once per tenant (4429)", async () => {
    const token = await tokenFor(uniqueTenant("ws-caps"));
    const transfer = await createTransfer(a, token, "+14165557300");
    const watch = { query: subscription, variables: { id: transfer.id } };
    const first = await connect(a, token, {});
    const second = await connect(a, token, {});
    expect(first.socket && second.socket).toBeTruthy();
    expect((await connect(a, token, {})).closed).toBe(4429);

    // Two subscriptions stay open on the first socket; a third operation is refused beside them.
    const pending = [first.socket!.run(watch, 3000), first.socket!.run(watch, 3000)];
    const third = await first.socket!.run(watch);
    expect(third.kind).toBe("error");
    if (third.kind === "error") expect(third.errors[0]?.extensions?.code).toBe("RATE_LIMITED");
    expect((await Promise.all(pending)).map((end) => end.kind)).toEqual(["timeout", "timeout"]);

    second.socket!.close();
    await second.socket!.closed();
    const again = await connect(a, token, {});
    expect(again.socket).toBeTruthy();
    again.socket!.close();
    first.socket!.close();
  });
});
