import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postGraphQL } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { ask, codesOf, TRANSPORTS } from "../helpers/transports.js";
import { uniqueTenant } from "../helpers/wait.js";

/** Misspellings graphql-js would answer with "Did you mean …", naming a field, an input field and an enum value. */
const misspellings = [
  { label: "a field", request: { query: `{ transfr(id: "tx_1") { id } }` } },
  { label: "an enum value", request: { query: "{ receiptEvents(filter: { channel: RC }) { edges { cursor } } }" } },
  {
    label: "an input field in a variable",
    request: {
      query: "mutation ($input: CreateTransferInput!) { createTransfer(input: $input) { id } }",
      variables: { input: { recipient: { phone: "+14165550100" }, fileNme: "q4.zip", fileName: "q4.zip", fileSizeBytes: 1, senderName: "x" } },
    },
  },
];

describe("introspection", () => {
  describe("off (GRAPHQL_INTROSPECTION=false): off everywhere", () => {
    let server: TestServer;
    let token: string;

    beforeAll(async () => {
      server = await startTestServer({ env: { GRAPHQL_INTROSPECTION: "false" } });
      token = await tokenFor(uniqueTenant("introspection-off"));
    });
    afterAll(async () => {
      await server?.close();
    });

    describe.each(TRANSPORTS)("over %s", (transport) => {
      it.each([
        ["__schema", "{ __schema { queryType { name } } }"],
        ["__type", `{ __type(name: "Transfer") { fields { name } } }`],
      ])("%s is refused", async (_label, query) => {
        const answer = await ask(transport, server, { query }, token);
        expect(codesOf(answer).length).toBeGreaterThan(0);
        expect(new Set(codesOf(answer))).toEqual(new Set(["GRAPHQL_VALIDATION_FAILED"]));
        expect(answer.errors![0]!.message).toMatch(/introspection has been disabled/);
        expect(answer.data ?? null).toBeNull();
      });

      it("__typename is still answered", async () => {
        expect((await ask(transport, server, { query: "{ __typename }" }, token)).data).toEqual({ __typename: "Query" });
      });

      it.each(misspellings)("a misspelt $label gets no suggestion", async ({ request }) => {
        const answer = await ask(transport, server, request, token);
        expect(answer.errors?.length).toBeGreaterThan(0);
        for (const error of answer.errors!) expect(error.message).not.toMatch(/Did you mean/);
      });
    });

    it.each(misspellings)("a misspelt $label gets no suggestion without a token either", async ({ request }) => {
      const { body } = await postGraphQL(server.url, request);
      expect(body.errors?.length).toBeGreaterThan(0);
      for (const error of body.errors!) expect(error.message).not.toMatch(/Did you mean/);
    });
  });

  describe("on (the default)", () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(async () => {
      await server?.close();
    });

    it("a caller without a token may introspect over HTTP: the schema is public, as codegen and partners need", async () => {
      const { status, body } = await postGraphQL(server.url, { query: getIntrospectionQuery() });
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect((body.data as { __schema: { types: Array<{ name: string }> } }).__schema.types.map((type) => type.name)).toContain("Transfer");
    });

    it("suggestions help: a misspelt field names the one meant", async () => {
      const { body } = await postGraphQL(server.url, misspellings[0]!.request);
      expect(body.errors![0]!.message).toMatch(/Did you mean "transfer"/);
    });
  });
});
