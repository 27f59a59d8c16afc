import "reflect-metadata";
import { getIntrospectionQuery, getOperationAST, type GraphQLSchema, parse } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { findUnfitText } from "../../src/graphql/input-text.js";
import { operationCost } from "../../src/graphql/operation-cost.js";
import { createOperationGuard } from "../../src/graphql/operation-guard.js";
import { fragmentsOf } from "../../src/graphql/operation-shape.js";
import { buildGraphQLSchema } from "../../src/graphql/schema.js";

const LIMITS = { maxCost: 20_000, maxDepth: 15, maxAliases: 30, maxRootFields: 20, maxTokens: 1000 };

describe("operation limits", () => {
  let schema: GraphQLSchema;
  const cost = (query: string, variables: Record<string, unknown> = {}) => {
    const document = parse(query);
    return operationCost(schema, getOperationAST(document)!, fragmentsOf(document), variables);
  };

  beforeAll(async () => {
    schema = await buildGraphQLSchema();
  });

  describe("cost", () => {
    it("counts every field once", () => {
      expect(cost(`{ transfer(id: "tx") { id status } }`)).toBe(3);
    });

    it("multiplies a list's selection by 10, and nested lists multiply", () => {
      // deliveryAttempts 1 + 10 × 1; messages 1 + 10 × 11; transfer 1 + 111
      expect(cost(`{ transfer(id: "tx") { messages { deliveryAttempts { attempt } } } }`)).toBe(112);
    });

    it("weights a paged field by its `first`, written or in a variable, and a connection's edges only once", () => {
      // edges 1 + (node 1 + id 1); receiptEvents 1 + 7 × 3
      expect(cost("{ receiptEvents(first: 7) { edges { node { id } } } }")).toBe(22);
      expect(cost("query ($n: Int) { receiptEvents(first: $n) { edges { node { id } } } }", { n: 500 })).toBe(1501);
      // Without `first`, the argument's default (50) counts.
      expect(cost("{ receiptEvents { edges { node { id } } } }")).toBe(151);
    });

    it("costs a fragment as often as it is spread", () => {
      expect(cost(`{ a: transfer(id: "1") { ...T } b: transfer(id: "2") { ...T } } fragment T on Transfer { id status }`)).toBe(6);
    });

    it("reads introspection's lists once each: the schema is small and fixed", () => {
      const document = parse(getIntrospectionQuery());
      expect(operationCost(schema, getOperationAST(document)!, fragmentsOf(document), {})).toBeLessThan(LIMITS.maxCost / 10);
    });
  });

  describe("input text", () => {
    const unfit = (query: string, variables: Record<string, unknown> = {}) => findUnfitText(parse(query), variables);

    it("names the field of a literal or a variable, an `input` object's fields by their own names", () => {
      expect(unfit(`{ transfer(id: "a\\u0000") { id } }`)?.details).toEqual({ field: "id" });
      expect(unfit(`mutation { createTransfer(input: { recipient: { email: "\\u0000" } }) { id } }`)?.details).toEqual({ field: "recipient.email" });
      expect(unfit("mutation ($input: CreateTransferInput!) { createTransfer(input: $input) { id } }", { input: { recipient: { phone: "+1\u0000" } } })?.details).toEqual({
        field: "recipient.phone",
      });
      expect(unfit("query ($f: ReceiptEventFilter) { receiptEvents(filter: $f) { pageInfo { hasNextPage } } }", { f: { provider: "\ud800" } })?.message).toBe(
        "filter.provider contains an unpaired surrogate (not valid Unicode)",
      );
    });

    it("takes ordinary text, paired surrogates (emoji) included", () => {
      expect(unfit(`mutation { revokeTransfer(id: "tx_1", reason: "sent to the wrong auditor 📎, déjà vu") { id } }`)).toBeUndefined();
    });
  });

  describe("guard", () => {
    it("refuses over the limits and hands back the document within them", () => {
      const guard = createOperationGuard({ schema, limits: LIMITS, introspection: true });
      expect(guard.prepare({ query: "{ __typename }" })).toHaveProperty("document");
      const refused = guard.prepare({ query: `{ ${"__typename ".repeat(21)}}` });
      expect("errors" in refused && refused.errors.map((error) => error.extensions)).toEqual([
        { code: "QUERY_TOO_COMPLEX", limit: "rootFields", maximum: 20, actual: 21, http: { status: 400 } },
      ]);
    });

    it("says which variables cannot be coerced, as BAD_USER_INPUT", () => {
      const guard = createOperationGuard({ schema, limits: LIMITS, introspection: true });
      const refused = guard.prepare({ query: "query ($id: ID!) { transfer(id: $id) { id } }", variables: { id: true } });
      expect("errors" in refused && refused.errors.map((error) => error.extensions.code)).toEqual(["BAD_USER_INPUT"]);
    });
  });
});
