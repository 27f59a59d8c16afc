import { getIntrospectionQuery } from "graphql";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { openRawGraphQLSocket } from "../helpers/raw-graphql-ws.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { type Answer, ask, codesOf, TRANSPORTS } from "../helpers/transports.js";
import { uniqueTenant } from "../helpers/wait.js";

const MIB = 1024 * 1024;

const aliased = (count: number, field: (index: number) => string) =>
  `{ ${Array.from({ length: count }, (_, index) => `a${index}: ${field(index)}`).join(" ")} }`;

/** The issue's attacks: each took the server for seconds (or, for the creates, did 1,000 of them). */
const attacks: Array<[string, string]> = [
  ["10,000 aliased transfer(id) with nested lists", aliased(10_000, () => `transfer(id: "tx_x") { id messages { id deliveryAttempts { attempt } } }`)],
  ["10,000 aliases of receiptEvents(first: 500)", aliased(10_000, () => "receiptEvents(first: 500) { edges { node { id } } }")],
  [
    "1,000 aliased createTransfer",
    `mutation ${aliased(1_000, (index) => `createTransfer(input: { recipient: { phone: "+14165550100" }, fileName: "f${index}.zip", fileSizeBytes: 1, senderName: "x" }) { id }`)}`,
  ],
];

const deepList = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`;

function expectRefused(answer: Answer, limit: string): void {
  expect(codesOf(answer)).toEqual(["QUERY_TOO_COMPLEX"]);
  expect(answer.errors![0]!.extensions?.limit).toBe(limit);
  expect(answer.data ?? null).toBeNull();
  if (answer.status !== undefined) expect(answer.status).toBe(400);
}

/** One operation's work is bounded, identically over HTTP and graphql-ws. */
describe("GraphQL operation limits", () => {
  let server: TestServer;
  /** The token limit lifted, to show that each other limit holds on its own. */
  let untokened: TestServer;
  let token: string;

  beforeAll(async () => {
    [server, untokened] = await Promise.all([startTestServer(), startTestServer({ env: { GRAPHQL_MAX_TOKENS: "1000000" } })]);
    token = await tokenFor(uniqueTenant("limits"));
  });
  afterAll(async () => {
    await Promise.all([server?.close(), untokened?.close()]);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe.each(TRANSPORTS)("over %s (succeeding)", (transport) => {
    it("a full page of receipt events with every field, and a transfer with its nested lists, are within the limits", async () => {
      const page = await ask(
        transport,
        server,
        {
          query: `query ($first: Int) { receiptEvents(first: $first) { edges { cursor node { id transferId messageId channel event timestamp receivedAt provider source carrier metadata } } pageInfo { hasNextPage endCursor } } }`,
          variables: { first: 500 },
        },
        token,
      );
      expect(page.errors).toBeUndefined();
      expect(page.data).toEqual({ receiptEvents: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } });

      const transfer = await ask(
        transport,
        server,
        { query: `{ transfer(id: "tx_none") { id status messages { id channel status deliveryAttempts { attempt at outcome code error retryAt } } } }` },
        token,
      );
      expect(transfer.errors).toBeUndefined();
      expect(transfer.data).toEqual({ transfer: null });
    });

    it("the full introspection query that codegen and GraphiQL send is within the limits", async () => {
      const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
      const answer = await ask(transport, server, { query }, token);
      expect(answer.errors).toBeUndefined();
      expect((answer.data as { __schema: { queryType: { name: string } } }).__schema.queryType.name).toBe("Query");
    });
  });

  describe.each(TRANSPORTS)("over %s (failing)", (transport) => {
    it.each(attacks)("%s is refused as too large a document", async (_label, query) => {
      expectRefused(await ask(transport, server, { query }, token), "tokens");
    });

    it.each(attacks)("%s is refused for its aliases when the token limit is lifted", async (_label, query) => {
      expectRefused(await ask(transport, untokened, { query }, token), "aliases");
    });

    it("the refused creates created nothing", async () => {
      const tenant = uniqueTenant("refused-creates");
      const tenantToken = await tokenFor(tenant);
      expectRefused(await ask(transport, untokened, { query: attacks[2]![1] }, tenantToken), "aliases");
      const events = await ask(transport, untokened, { query: "{ receiptEvents(first: 500) { edges { node { id } } } }" }, tenantToken);
      expect(events.data).toEqual({ receiptEvents: { edges: [] } });
    });

    it("an operation deeper than GRAPHQL_MAX_DEPTH (15) is refused", async () => {
      const nested = (levels: number): string => (levels === 0 ? "name" : `ofType { ${nested(levels - 1)} }`);
      const answer = await ask(transport, server, { query: `{ __schema { types { fields { type { ${nested(11)} } } } } }` }, token);
      expectRefused(answer, "depth");
      expect(answer.errors![0]!.message).toBe("the operation is 16 levels deep; at most 15 allowed");
    });

    it("more than GRAPHQL_MAX_ALIASES (30) aliases are refused, however they are spread", async () => {
      expectRefused(await ask(transport, server, { query: aliased(31, () => "__typename") }, token), "aliases");
      const viaFragments = `{ ...F ...F } fragment F on Query { ${Array.from({ length: 16 }, (_, index) => `b${index}: __typename`).join(" ")} }`;
      expectRefused(await ask(transport, server, { query: viaFragments }, token), "aliases");
    });

    it("more than GRAPHQL_MAX_ROOT_FIELDS (20) top-level fields are refused", async () => {
      expectRefused(await ask(transport, server, { query: `{ ${"__typename ".repeat(21)}}` }, token), "rootFields");
    });

    it("fragments that double at every level are measured once each, and refused", async () => {
      const fragments = Array.from({ length: 40 }, (_, level) => `fragment F${level + 1} on Query { ...F${level} ...F${level} }`).join(" ");
      const answer = await ask(transport, server, { query: `{ ...F40 } fragment F0 on Query { __typename } ${fragments}` }, token);
      expectRefused(answer, "rootFields");
      expect(answer.errors![0]!.extensions?.actual).toBe(2 ** 40);
    });

    it("a cost over GRAPHQL_MAX_COST (20,000) is refused: a list's selection counts `first` times", async () => {
      const page = "receiptEvents(first: 500) { edges { cursor node { id transferId messageId channel event timestamp receivedAt provider source carrier metadata } } }";
      const answer = await ask(transport, server, { query: aliased(3, () => page) }, token);
      expectRefused(answer, "cost");
      expect(answer.errors![0]!.extensions).toMatchObject({ maximum: 20_000, actual: 3 * (1 + 500 * (1 + 1 + 12)) });
    });

    it("`first` passed in a variable counts the same", async () => {
      const answer = await ask(
        transport,
        server,
        { query: "query ($first: Int) { receiptEvents(first: $first) { edges { node { id event } } } }", variables: { first: 100_000 } },
        token,
      );
      expectRefused(answer, "cost");
    });

    it("a 10,000-deep literal is refused, without a stack trace, whether the token limit or the parser stops it", async () => {
      const consoleError = vi.spyOn(console, "error");
      const query = `{ transfer(id: ${deepList(10_000)}) { id } }`;
      expectRefused(await ask(transport, server, { query }, token), "tokens");
      const unbounded = await ask(transport, untokened, { query }, token);
      expectRefused(unbounded, "nesting");
      expect(unbounded.errors![0]!.message).toBe("the document is nested too deep to parse");
      expect(JSON.stringify(unbounded)).not.toMatch(/stacktrace|at .*\.js/);
      expect(consoleError).not.toHaveBeenCalled();
      // And the server goes on answering.
      expect((await ask(transport, untokened, { query: "{ __typename }" }, token)).data).toEqual({ __typename: "Query" });
    });
  });

  describe("request size", () => {
    it("a graphql-ws message over 1 MiB closes the socket with 1009, as HTTP answers 413; under it, it is answered", async () => {
      const consoleError = vi.spyOn(console, "error");
      const socket = await openRawGraphQLSocket(server.wsUrl, { Authorization: `Bearer ${token}` });
      const justUnder = await socket.run({ query: `{ transfer(id: "${"x".repeat(MIB - 100)}") { id } }` });
      expect(justUnder).toMatchObject({ kind: "error", errors: [{ extensions: { code: "BAD_USER_INPUT", field: "id" } }] });
      const over = await socket.run({ query: `{ transfer(id: "${"x".repeat(MIB + 1)}") { id } }` });
      expect(over).toMatchObject({ kind: "closed", code: 1009 });
      expect(consoleError).not.toHaveBeenCalled();

      const response = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: `{ transfer(id: "${"x".repeat(MIB + 1)}") { id } }` }),
      });
      expect(response.status).toBe(413);
    });
  });
});
