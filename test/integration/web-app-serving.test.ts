import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedServer } from "../helpers/embedded-server.js";
import { postGraphQL } from "../helpers/graphql.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const asBrowser = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

/** Every script, stylesheet and preload a page references (its empty icon is inline: `data:,`, so the browser asks for no favicon). */
const referencedAssets = (page: string) =>
  [...page.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]!).filter((asset) => asset !== "data:,");

function expectStrictPolicy(response: Response) {
  const policy = response.headers.get("content-security-policy") ?? "";
  expect(policy).toContain("default-src 'none'");
  expect(policy).toContain("script-src 'self'");
  expect(policy).toContain("style-src 'self'");
  expect(policy).toContain("connect-src 'self'");
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).not.toContain("unsafe-inline");
  expect(policy).not.toContain("unsafe-eval");
  expect(response.headers.get("x-frame-options")).toBe("DENY");
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
}

/** The web app and the API explorer as served files: local assets only, under a strict policy. */
describe("the web app and the explorer, over HTTP", () => {
  let server: TestServer;
  let embedded: Awaited<ReturnType<typeof startEmbeddedServer>>;
  beforeAll(async () => {
    [server, embedded] = await Promise.all([startTestServer(), startEmbeddedServer()]);
  });
  afterAll(async () => {
    await server?.close();
    await embedded?.close();
  });

  it("GET /graphql from a browser is GraphiQL from Ackline's own build: every asset local and served, no CDN, a strict policy", async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: asBrowser });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expectStrictPolicy(response);
    const page = await response.text();
    expect(page).toContain('<div id="graphiql">');
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const assets = referencedAssets(page);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      expect(asset).toMatch(/^\/app\/assets\//);
      const file = await fetch(`${server.url}${asset}`);
      expect(file.status, asset).toBe(200);
      expect(file.headers.get("cache-control"), asset).toContain("immutable");
    }
    // With auth configured, no token is handed out.
    expect(page).toContain('<meta name="ackline-development-token" content="" />');
  });

  it("on the embedded default, the explorer carries the development token, and it works", async () => {
    const page = await (await fetch(`${embedded.url}/graphql`, { headers: asBrowser })).text();
    const token = /<meta name="ackline-development-token" content="([^"]+)"/.exec(page)?.[1];
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const answer = await postGraphQL(embedded.url, { query: "{ transfers(first: 1) { id } }" }, token);
    expect(answer.body).toEqual({ data: { transfers: [] } });
  });

  it("GraphQL itself is unchanged: a GET with a query, a POST, and a GET asking for JSON are answered by the API", async () => {
    const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent("{ __typename }")}`, { headers: { ...asBrowser, "apollo-require-preflight": "1" } });
    expect(await get.json()).toEqual({ data: { __typename: "Query" } });
    expect((await postGraphQL(server.url, { query: "{ __typename }" })).body).toEqual({ data: { __typename: "Query" } });
    const json = await fetch(`${server.url}/graphql`, { headers: { accept: "application/json" } });
    expect(json.headers.get("content-type")).not.toMatch(/^text\/html/);
  });

  it("/app and its pages answer with the app's page under the same policy; unknown assets are 404", async () => {
    for (const path of ["/app", "/app/", "/app/stats", "/app/transfers/tx_123"]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(200);
      expectStrictPolicy(response);
      const page = await response.text();
      expect(page).toContain('<div id="root">');
      for (const asset of referencedAssets(page)) expect((await fetch(`${server.url}${asset}`)).status, asset).toBe(200);
    }
    expect((await fetch(`${server.url}/app/assets/nothing-here.js`)).status).toBe(404);
  });
});
