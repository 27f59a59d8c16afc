import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { webhookProviders } from "../../src/webhooks/providers/index.js";
import { Prng } from "../helpers/graphql-fuzz.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createSnsSigner } from "../helpers/sns.js";
import { FUZZED_DOORS, type FuzzContext, hostileWebhook, type WebhookCase } from "../helpers/webhook-fuzz.js";

/** `FUZZ_SEED=<n>` replays a run; failures name their seed and case number. */
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const CASES = 7_600;
const CONCURRENCY = 16;
/** Generous: speed is not what this test asserts, and the machine may be busy. */
const TIMEOUT_MS = 240_000;

/** What is wrong with an answer, if anything: a 5xx, a 2xx where a refusal was due, or a 4xx without a reason. */
function problemWith(webhook: WebhookCase, status: number, text: string): string | undefined {
  // By design (README): Vonage sends unsigned callbacks after its own errors and retries only 5xx, so the signed retry gets in.
  const unsignedVonage = webhook.door === "vonage" && !webhook.headers.authorization;
  if (status === 503 && unsignedVonage) return undefined;
  if (status >= 500) return `status ${status}`;
  if (status < 400) return webhook.mustRefuse || status !== 200 ? `status ${status} where a 4xx was due` : undefined;
  let reason: unknown;
  try {
    reason = (JSON.parse(text) as { error?: unknown }).error;
  } catch {
    return "a refusal that is not JSON";
  }
  return typeof reason === "string" && reason.length > 0 ? undefined : "a refusal without a reason";
}

/**
 * Thousands of generated hostile deliveries against every webhook door, many with a valid
 * signature over a malformed body: zero 5xx, zero crashes, every refusal a 4xx with its reason.
 */
describe(`webhook fuzzing (seed ${SEED})`, () => {
  let server: TestServer;
  let context: FuzzContext;
  const consoleError = vi.spyOn(console, "error");

  beforeAll(async () => {
    const sns = await createSnsSigner();
    // What is fuzzed is parsing and storage: failed verifications must not turn into 429s part-way.
    server = await startTestServer({ env: { SNS_CERTIFICATES: JSON.stringify(sns.certificates), RATE_LIMIT_AUTH_FAILURES: "off" } });
    context = { serverUrl: server.url, sns };
  });
  afterAll(async () => {
    consoleError.mockRestore();
    await server?.close();
  });

  it("covers every door the registry has", () => {
    expect([...FUZZED_DOORS].sort()).toEqual([...webhookProviders.keys()].sort());
  });

  it(`${CASES} hostile deliveries are each answered with a clear 4xx (or, for an odd but valid one, stored)`, async () => {
    const random = new Prng(SEED);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    // Generated one after another from one sequence, whatever order the answers come in: a seed always gives the same cases.
    let generated = 0;
    let generation: Promise<unknown> = Promise.resolve();
    const nextCase = () => {
      const index = generated++;
      const webhook = generation.then(() => hostileWebhook(random, context));
      generation = webhook;
      return webhook.then((made) => ({ index, webhook: made }));
    };
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (generated < CASES) {
          const { index, webhook } = await nextCase();
          try {
            const response = await fetch(`${server.url}/webhooks/${webhook.door}`, { method: "POST", headers: webhook.headers, body: webhook.body });
            const text = await response.text();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            const problem = problemWith(webhook, response.status, text);
            if (problem) failures.push(`seed ${SEED} case ${index} (${webhook.name}): ${problem}: ${text.slice(0, 200)}`);
          } catch (error) {
            failures.push(`seed ${SEED} case ${index} (${webhook.name}): no answer: ${(error as Error).message}`);
          }
        }
      }),
    );
    expect(failures.slice(0, 10)).toEqual([]);
    // The run reached past verification and refused with every kind of client error.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([400, 401, 413]));
    expect(consoleError).not.toHaveBeenCalled();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, TIMEOUT_MS);
});
