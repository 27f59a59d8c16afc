import { serverAudits, type AuditResult } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** GraphQL over HTTP conformance: graphql-http's server audits, zero errors (warnings are printed). */
describe("graphql-http server audits", () => {
  let server: TestServer;
  const results: AuditResult[] = [];

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("there are audits to run", () => {
    expect(serverAudits({ url: "http://127.0.0.1/graphql" }).length).toBeGreaterThan(10);
  });

  it("every audit passes or only warns", async () => {
    for (const audit of serverAudits({ url: `${server.url}/graphql` })) {
      results.push(await audit.fn());
    }
    const warnings = results.filter((result) => result.status === "warn" || result.status === "notice");
    for (const warning of warnings) {
      if (warning.status !== "ok") console.warn(`graphql-http audit ${warning.status}: ${warning.name} (${warning.id}): ${warning.reason}`);
    }
    const errors = results
      .filter((result) => result.status === "error")
      .map((result) => `${result.name} (${result.id}): ${result.status === "error" ? result.reason : ""}`);
    expect(errors).toEqual([]);
    expect(results.some((result) => result.status === "ok")).toBe(true);
  });
});
