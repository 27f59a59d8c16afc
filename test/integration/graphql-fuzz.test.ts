import type { GraphQLFormattedError } from "graphql";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type HttpCase, hostileFrame, hostileHttpCase, hostileRequest, Prng } from "../helpers/graphql-fuzz.js";
import { openRawGraphQLSocket, type RawGraphQLSocket } from "../helpers/raw-graphql-ws.js";
import { startTestServer, tokenFor, type TestServer } from "../helpers/server.js";
import { uniqueTenant } from "../helpers/wait.js";

/** `FUZZ_SEED=<n>` replays a run; failures name their seed and case number. */
const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const HTTP_CASES = 1_200;
const WS_OPERATIONS = 1_000;
const WS_FRAMES = 300;
const CONCURRENCY = 8;

/** Generous: speed is not what these tests assert, and the machine may be busy. */
const TIMEOUT_MS = 120_000;

/** The close codes that say "your message was wrong": bad UTF-8, too big, and graphql-ws's 44xx. */
const CLIENT_ERROR_CLOSES = new Set([1007, 1009, 4400, 4401, 4403, 4409, 4429]);

/** What is wrong with the errors of an answer, if anything: a missing or internal code, or a stack trace. */
function errorProblem(errors: readonly GraphQLFormattedError[] | undefined): string | undefined {
  if (!errors?.length) return "no errors: the hostile input was not refused";
  for (const error of errors) {
    const code = error.extensions?.code;
    if (typeof code !== "string") return `an error without extensions.code: ${error.message.slice(0, 120)}`;
    if (code === "INTERNAL_SERVER_ERROR") return `INTERNAL_SERVER_ERROR: ${error.message.slice(0, 120)}`;
    if (error.extensions?.stacktrace !== undefined) return "a stack trace";
  }
  return undefined;
}

async function inPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/**
 * Thousands of generated hostile inputs against POST /graphql and graphql-ws: zero 5xx, zero
 * crashes, every answer a clear client error (a 4xx over HTTP; over graphql-ws an error with a
 * code, or a close that says the message was wrong).
 */
describe(`GraphQL fuzzing (seed ${SEED})`, () => {
  let server: TestServer;
  let token: string;
  const consoleError = vi.spyOn(console, "error");

  beforeAll(async () => {
    server = await startTestServer();
    token = await tokenFor(uniqueTenant("fuzz"));
  });
  afterAll(async () => {
    consoleError.mockRestore();
    await server?.close();
  });

  it(`${HTTP_CASES} hostile HTTP requests are each answered with a 4xx`, async () => {
    const random = new Prng(SEED);
    const cases = Array.from({ length: HTTP_CASES }, (_, index) => {
      const auth = random.int(10);
      const authorization: Record<string, string> = auth < 8 ? { authorization: `Bearer ${token}` } : auth === 8 ? { authorization: "Bearer not.a.jwt" } : {};
      const httpCase = hostileHttpCase(random);
      return { index, ...httpCase, headers: { ...httpCase.headers, ...authorization } };
    });
    const failures: string[] = [];
    await inPool(cases, CONCURRENCY, async (httpCase: HttpCase & { index: number }) => {
      const response = await fetch(`${server.url}${httpCase.path}`, { method: httpCase.method, headers: httpCase.headers, body: httpCase.body });
      const text = await response.text();
      let problem = response.status >= 400 && response.status < 500 ? undefined : `status ${response.status}`;
      if (!problem && response.headers.get("content-type")?.includes("json")) {
        const body = JSON.parse(text) as { errors?: GraphQLFormattedError[]; error?: string };
        if (body.errors) problem = errorProblem(body.errors);
      }
      if (problem) failures.push(`seed ${SEED} case ${httpCase.index} (${httpCase.name}): ${problem}: ${text.slice(0, 200)}`);
    });
    expect(failures.slice(0, 10)).toEqual([]);
  }, TIMEOUT_MS);

  it(`${WS_OPERATIONS} hostile operations over graphql-ws each end with coded errors`, async () => {
    const random = new Prng(SEED + 1);
    const failures: string[] = [];
    let socket: RawGraphQLSocket = await openRawGraphQLSocket(server.wsUrl, { Authorization: `Bearer ${token}` });
    for (let index = 0; index < WS_OPERATIONS; index++) {
      const request = hostileRequest(random);
      const end = await socket.runJson(request);
      let problem: string | undefined;
      if (end.kind === "error") problem = errorProblem(end.errors);
      else if (end.kind === "complete") problem = errorProblem(end.results.flatMap((result) => result.errors ?? []));
      else if (end.kind === "closed") {
        // Only a message over the size limit may close the socket; then carry on with a new one.
        if (end.code !== 1009) problem = `closed ${end.code} ${end.reason}`;
        socket = await openRawGraphQLSocket(server.wsUrl, { Authorization: `Bearer ${token}` });
      } else problem = "neither answered nor closed";
      if (problem) failures.push(`seed ${SEED + 1} operation ${index}: ${problem}: ${request.slice(0, 200)}`);
    }
    socket.close();
    expect(failures.slice(0, 10)).toEqual([]);
  }, TIMEOUT_MS);

  it(`${WS_FRAMES} hostile graphql-ws frames each close the socket with a client-error code`, async () => {
    const random = new Prng(SEED + 2);
    const failures: string[] = [];
    const frames = Array.from({ length: WS_FRAMES }, (_, index) => ({ index, ...hostileFrame(random) }));
    await inPool(frames, CONCURRENCY, async (frame) => {
      const socket = await openRawGraphQLSocket(server.wsUrl, frame.initFirst ? { Authorization: `Bearer ${token}` } : undefined);
      socket.sendRaw(frame.data, { text: frame.text });
      const { code, reason } = await socket.closed(5_000);
      if (!CLIENT_ERROR_CLOSES.has(code)) failures.push(`seed ${SEED + 2} frame ${frame.index} (${frame.name}): closed ${code} ${reason}`);
      socket.close();
    });
    expect(failures.slice(0, 10)).toEqual([]);
  }, TIMEOUT_MS);

  it("nothing was printed on stderr, and the server still answers", async () => {
    expect(consoleError).not.toHaveBeenCalled();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `{ transfer(id: "tx_none") { id } }` }),
    });
    expect(await response.json()).toEqual({ data: { transfer: null } });
  });
});
