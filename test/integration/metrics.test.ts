import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateTransferDocument } from "../generated/graphql.js";
import { graphql } from "../helpers/graphql.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { genericSignature, postGeneric, postWebhook } from "../helpers/webhooks.js";

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

  it("counts webhook deliveries by provider, status and outcome, verification failures and duplicates, and times them", async () => {
    const delivered = { event: "message.delivered", timestamp: new Date().toISOString(), message_id: "unknown-yet" };
    await postGeneric(server.url, delivered);
    await postGeneric(server.url, delivered);
    await postGeneric(server.url, { event: "message.delivered", timestamp: new Date().toISOString(), message_id: "x" }, "wrong-secret");
    await postWebhook(server.url, "generic", "{", { "x-webhook-signature": genericSignature("{") });
    const text = await scrape();
    expect(text).toMatch(/^ackline_webhook_requests_total\{provider="generic",status="200"\} 2$/m);
    expect(text).toMatch(/^ackline_webhook_requests_total\{provider="generic",status="401"\} 1$/m);
    expect(text).toMatch(/^ackline_webhook_requests_total\{provider="generic",status="400"\} 1$/m);
    expect(text).toMatch(/^ackline_webhook_deliveries_total\{provider="generic",outcome="accepted"\} 1$/m);
    expect(text).toMatch(/^ackline_webhook_deliveries_total\{provider="generic",outcome="duplicate"\} 1$/m);
    expect(text).toMatch(/^ackline_webhook_deliveries_total\{provider="generic",outcome="rejected"\} 2$/m);
    expect(text).toMatch(/^ackline_webhook_verification_failures_total\{provider="generic"\} 1$/m);
    expect(text).toMatch(/^ackline_webhook_duplicate_events_total\{provider="generic"\} 1$/m);
    expect(text).toMatch(/^ackline_webhook_processing_seconds_count\{provider="generic"\} 4$/m);
  });
});
