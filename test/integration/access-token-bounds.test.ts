import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCOPES } from "../../src/auth/access-tokens.js";
import { GetTransferDocument, TransferUpdatedDocument } from "../generated/graphql.js";
import { errorCodes, graphql, postGraphQL, wsClient } from "../helpers/graphql.js";
import { startTestServer, TEST_AUDIENCE, TEST_AUTH_SECRET, tokenFor, type TestServer } from "../helpers/server.js";
import { firstOutcome } from "../helpers/subscriptions.js";

const HOUR = 3600;
const now = () => Math.floor(Date.now() / 1000);

/** A token signed with the test secret whose `iat` and `exp` are set by hand (`iat: undefined` leaves it out). */
function tokenWithTimes(times: { iat?: number; exp: number }, secret = TEST_AUTH_SECRET): Promise<string> {
  const jwt = new SignJWT({ tenant_id: "bounds", scope: SCOPES.join(" ") }).setProtectedHeader({ alg: "HS256" }).setAudience(TEST_AUDIENCE).setExpirationTime(times.exp);
  if (times.iat !== undefined) jwt.setIssuedAt(times.iat);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** A token's lifetime is bounded (AUTH_MAX_TOKEN_TTL, default 24 h) and it cannot be issued in the future. */
describe("access token bounds", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  async function overHttp(token: string) {
    return graphql(server.url, GetTransferDocument, { id: "tx_none" }, token);
  }
  async function overWebSocket(token: string) {
    const client = wsClient(server.wsUrl, { Authorization: `Bearer ${token}` });
    try {
      return await firstOutcome(client, TransferUpdatedDocument, { id: "tx_none" });
    } finally {
      await client.dispose();
    }
  }

  describe("refused: 401 over HTTP, 4403 over graphql-ws", () => {
    const unbounded: Array<[string, () => Promise<string>]> = [
      ["expires a century after it was issued", () => tokenWithTimes({ iat: now(), exp: now() + 100 * 365 * 24 * HOUR })],
      ["is issued ten years in the future", () => tokenWithTimes({ iat: now() + 10 * 365 * 24 * HOUR, exp: now() + 10 * 365 * 24 * HOUR + HOUR })],
      ["is issued two minutes in the future (beyond the one-minute clock skew)", () => tokenWithTimes({ iat: now() + 120, exp: now() + HOUR })],
      ["lives 24 h and one second", () => tokenWithTimes({ iat: now(), exp: now() + 24 * HOUR + 1 })],
      ["has no iat and expires in 25 h", () => tokenWithTimes({ exp: now() + 25 * HOUR })],
    ];

    it.each(unbounded)("a token that %s", async (_label, mint) => {
      const token = await mint();
      const http = await overHttp(token);
      expect(http.status).toBe(401);
      expect(errorCodes(http.body)).toEqual(["UNAUTHENTICATED"]);
      expect(await overWebSocket(token)).toMatchObject({ kind: "closed", code: 4403 });
    });

    it("a missing token is 401 too, for every operation that needs one", async () => {
      for (const query of [`{ transfer(id: "tx_none") { id } }`, "{ receiptEvents { edges { cursor } } }", "{ deliveryPolicy { emailCopy } }"]) {
        const { status, body } = await postGraphQL(server.url, { query });
        expect(status).toBe(401);
        expect(errorCodes(body)).toEqual(["UNAUTHENTICATED"]);
      }
    });
  });

  describe("accepted", () => {
    const bounded: Array<[string, () => Promise<string>]> = [
      ["shaped like the development token: issued now, valid 24 h", () => tokenFor("bounds", { expiresIn: "24h" })],
      ["issued 30 s in the future (within the clock skew)", () => tokenWithTimes({ iat: now() + 30, exp: now() + HOUR })],
      ["without iat, expiring within 24 h", () => tokenWithTimes({ exp: now() + 23 * HOUR })],
      ["issued a day ago and expiring in an hour", () => tokenWithTimes({ iat: now() - 23 * HOUR, exp: now() + HOUR })],
    ];

    it.each(bounded)("a token %s", async (_label, mint) => {
      const token = await mint();
      const http = await overHttp(token);
      expect(http.status).toBe(200);
      expect(http.body).toEqual({ data: { transfer: null } });
      expect(await overWebSocket(token)).toMatchObject({ kind: "errors", errors: [{ extensions: { code: "NOT_FOUND" } }] });
    });

    it("an operation that needs no token is answered without one", async () => {
      expect(await postGraphQL(server.url, { query: "{ __typename }" })).toEqual({ status: 200, body: { data: { __typename: "Query" } } });
    });
  });

  describe("AUTH_MAX_TOKEN_TTL", () => {
    let shortLived: TestServer;

    beforeAll(async () => {
      shortLived = await startTestServer({ env: { AUTH_MAX_TOKEN_TTL: "1h" } });
    });
    afterAll(async () => {
      await shortLived?.close();
    });

    it("sets the bound: with 1h, a 2 h token is refused and a 30 min one taken", async () => {
      const refused = await graphql(shortLived.url, GetTransferDocument, { id: "tx_none" }, await tokenFor("bounds", { expiresIn: "2h" }));
      expect(refused.status).toBe(401);
      expect(refused.body.errors![0]!.message).toBe("access token lives longer than the 3600 s allowed");
      const taken = await graphql(shortLived.url, GetTransferDocument, { id: "tx_none" }, await tokenFor("bounds", { expiresIn: "30m" }));
      expect(taken.body).toEqual({ data: { transfer: null } });
    });
  });
});
