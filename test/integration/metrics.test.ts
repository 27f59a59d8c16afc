import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateTransferDocument } from "../generated/graphql.js";
import { graphql } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { postGeneric } from "../helpers/webhooks.js";

describe("GET /metrics", () => {
  let server: TestServer;
  beforeAll(async () => {
    // No dispatcher here: what is queued stays queued, so the backlog is exact.
    server = await startTestServer({ env: { ROLE: "api" } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const scrape = async () => (await fetch(`${server.url}/metrics`)).text();

  it("shows the dispatch backlog by channel, read from the queue", async () => {
    const token = await tokenFor("metrics");
    for (let i = 0; i < 2; i++) {
      const created = await graphql(server.url, CreateTransferDocument, { input: { recipient: { phone: `+1416555700${i}`, email: "m@example.com" }, fileName: "m", fileSizeBytes: 1, senderName: "M" } }, token);
      expect(created.body.errors).toBeUndefined();
    }
    const text = await scrape();
    expect(text).toMatch(/^ackline_dispatch_backlog_messages\{channel="RCS"\} 2$/m);
    expect(text).toMatch(/^ackline_dispatch_backlog_messages\{channel="EMAIL"\} 2$/m);
  });

  it("counts webhook deliveries by provider and status", async () => {
    await postGeneric(server.url, { event: "message.delivered", timestamp: new Date().toISOString(), message_id: "unknown-yet" });
    await postGeneric(server.url, { event: "message.delivered", timestamp: new Date().toISOString(), message_id: "x" }, "wrong-secret");
    const text = await scrape();
    expect(text).toMatch(/^ackline_webhook_requests_total\{provider="generic",status="200"\} 1$/m);
    expect(text).toMatch(/^ackline_webhook_requests_total\{provider="generic",status="401"\} 1$/m);
  });
});
