import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postGraphQL } from "../helpers/graphql.js";
import { capturingLogger } from "../helpers/log-capture.js";
import { hasPostgres } from "../helpers/services.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { type Answer, ask, codesOf, TRANSPORTS } from "../helpers/transports.js";
import { uniqueTenant } from "../helpers/wait.js";

const stacktraces = (errors: Answer["errors"]) => (errors ?? []).filter((error) => error.extensions?.stacktrace !== undefined);

/** Text PostgreSQL cannot store, in every string input: BAD_USER_INPUT naming the field, never an internal error. */
const createTransfer = "mutation ($input: CreateTransferInput!) { createTransfer(input: $input) { id } }";
const transferInput = (overrides: Record<string, unknown>) => ({
  input: { recipient: { phone: "+14165550100" }, fileName: "q4.zip", fileSizeBytes: 1, senderName: "Acme", ...overrides },
});
const nulInputs: Array<[string, string, Record<string, unknown>, string]> = [
  ["createTransfer fileName", createTransfer, transferInput({ fileName: "a\u0000b" }), "fileName"],
  ["createTransfer description", createTransfer, transferInput({ description: "a\u0000b" }), "description"],
  ["createTransfer senderName", createTransfer, transferInput({ senderName: "a\u0000b" }), "senderName"],
  ["createTransfer idempotencyKey", createTransfer, transferInput({ idempotencyKey: "a\u0000b" }), "idempotencyKey"],
  ["createTransfer recipient.email", createTransfer, transferInput({ recipient: { email: "a\u0000b@example.com" } }), "recipient.email"],
  ["revokeTransfer reason", "mutation ($reason: String) { revokeTransfer(id: \"tx_none\", reason: $reason) { id } }", { reason: "a\u0000b" }, "reason"],
  ["revokeTransfer id", "mutation ($id: ID!) { revokeTransfer(id: $id) { id } }", { id: "tx_\u0000" }, "id"],
  [
    "resendNotification idempotencyKey",
    "mutation ($input: ResendNotificationInput!) { resendNotification(input: $input) { id } }",
    { input: { transferId: "tx_none", idempotencyKey: "a\u0000b" } },
    "idempotencyKey",
  ],
  [
    "recordDownload transferId",
    "mutation ($input: RecordDownloadInput!) { recordDownload(input: $input) { id } }",
    { input: { transferId: "tx_\u0000" } },
    "transferId",
  ],
  ["suppressAddress note", "mutation ($input: SuppressAddressInput!) { suppressAddress(input: $input) { kind } }", { input: { phone: "+14165550100", note: "a\u0000b" } }, "note"],
  [
    "removeSuppression consent",
    "mutation ($input: RemoveSuppressionInput!) { removeSuppression(input: $input) }",
    { input: { phone: "+14165550100", consent: "a\u0000b" } },
    "consent",
  ],
  ["transfer id", "query ($id: ID!) { transfer(id: $id) { id } }", { id: "tx_\u0000" }, "id"],
  ["receiptEvents filter provider", "query ($filter: ReceiptEventFilter) { receiptEvents(filter: $filter) { edges { cursor } } }", { filter: { provider: "a\u0000b" } }, "filter.provider"],
  ["receiptEvents after", "query ($after: String) { receiptEvents(after: $after) { edges { cursor } } }", { after: "a\u0000b" }, "after"],
];

describe("GraphQL errors", () => {
  let server: TestServer;
  let development: TestServer;
  let token: string;
  const { log, lines: logLines } = capturingLogger<{ level: number; msg: string; err?: { message: string } }>();
  const nodeEnv = process.env.NODE_ENV;

  beforeAll(async () => {
    // As `npm start` runs: nothing sets NODE_ENV.
    delete process.env.NODE_ENV;
    [server, development] = await Promise.all([startTestServer({ log }), startTestServer({ env: { NODE_ENV: "development" } })]);
    token = await tokenFor(uniqueTenant("errors"));
  });
  afterAll(async () => {
    process.env.NODE_ENV = nodeEnv;
    await Promise.all([server?.close(), development?.close()]);
  });

  describe("no stack traces unless NODE_ENV=development", () => {
    it("a bad bearer token's 401 carries none", async () => {
      const { status, body } = await postGraphQL(server.url, { query: "{ __typename }" }, "not-a-jwt");
      expect(status).toBe(401);
      expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect(stacktraces(body.errors)).toEqual([]);
    });

    it.each(TRANSPORTS)("nor a parse, validation or input error over %s", async (transport) => {
      for (const request of [
        { query: "{ transfer(" },
        { query: "{ transfer(id: 1) { nope } }" },
        { query: "query ($id: ID!) { transfer(id: $id) { id } }", variables: { id: { not: "an id" } } },
        { query: createTransfer, variables: transferInput({ fileName: "" }) },
      ]) {
        const answer = await ask(transport, server, request, token);
        expect(answer.errors?.length).toBeGreaterThan(0);
        expect(stacktraces(answer.errors)).toEqual([]);
      }
    });

    it("with NODE_ENV=development the same 401 carries its stack trace", async () => {
      const { body } = await postGraphQL(development.url, { query: "{ __typename }" }, "not-a-jwt");
      expect(stacktraces(body.errors)).toHaveLength(1);
    });
  });

  describe.each(TRANSPORTS)("text PostgreSQL cannot store, over %s", (transport) => {
    it.each(nulInputs)("a NUL in %s is BAD_USER_INPUT naming the field", async (_label, query, variables, field) => {
      const answer = await ask(transport, server, { query, variables }, token);
      expect(codesOf(answer)).toEqual(["BAD_USER_INPUT"]);
      expect(answer.errors![0]!.extensions?.field).toBe(field);
      expect(answer.errors![0]!.message).toBe(`${field} contains a NUL character`);
      if (answer.status !== undefined) expect(answer.status).toBe(400);
    });

    it("a NUL written in the document itself is refused the same", async () => {
      const answer = await ask(
        transport,
        server,
        { query: `mutation { createTransfer(input: { recipient: { phone: "+14165550100" }, fileName: "a\\u0000b", fileSizeBytes: 1, senderName: "x" }) { id } }` },
        token,
      );
      expect(answer.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "fileName" });
    });

    it("so are an unpaired surrogate and an absurd length", async () => {
      const surrogate = await ask(transport, server, { query: createTransfer, variables: transferInput({ fileName: "a\ud800b" }) }, token);
      expect(surrogate.errors?.[0]).toMatchObject({ message: "fileName contains an unpaired surrogate (not valid Unicode)", extensions: { code: "BAD_USER_INPUT" } });
      const long = await ask(transport, server, { query: "query ($id: ID!) { transfer(id: $id) { id } }", variables: { id: "x".repeat(10_001) } }, token);
      expect(long.errors?.[0]).toMatchObject({ message: "id is longer than 10000 characters", extensions: { code: "BAD_USER_INPUT", field: "id" } });
    });
  });

  it("a subscription's id is checked the same over graphql-ws", async () => {
    const answer = await ask("graphql-ws", server, { query: "subscription ($id: ID!) { transferUpdated(id: $id) { event { id } } }", variables: { id: "tx_\u0000" } }, token);
    expect(answer.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "id" });
  });

  describe.runIf(hasPostgres() || process.env.CI === "true")("an internal error", () => {
    it.each(TRANSPORTS)("over %s reaches the client bare and is logged with its cause", async (transport) => {
      const sql = postgres(server.databaseUrl!, { max: 1, onnotice: () => {} });
      logLines.length = 0;
      await sql`ALTER TABLE delivery_policies RENAME TO delivery_policies_away`;
      let answer: Answer;
      try {
        answer = await ask(transport, server, { query: "{ deliveryPolicy { emailCopy } }" }, token);
      } finally {
        await sql`ALTER TABLE delivery_policies_away RENAME TO delivery_policies`;
        await sql.end();
      }
      expect(answer.errors).toEqual([{ message: "internal server error", locations: [{ line: 1, column: 3 }], path: ["deliveryPolicy"], extensions: { code: "INTERNAL_SERVER_ERROR" } }]);
      const logged = logLines.filter((line) => line.msg === "GraphQL operation failed");
      expect(logged).toHaveLength(1);
      expect(logged[0]!.level).toBe(50);
      expect(logged[0]!.err?.message).toMatch(/delivery_policies/);
    });
  });
});
