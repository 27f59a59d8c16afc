/**
 * Hostile GraphQL requests, generated from a seed so that a failure reproduces: every one must
 * be refused with a clear client error, never a 5xx, a crash or a stack trace.
 */

/** mulberry32: a small, fast, seeded PRNG (the same seed gives the same sequence). */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => this.int(256)));
  }
}

const MIB = 1024 * 1024;
const ONE_MB_TEXT = "x".repeat(MIB - 64);

/** JSON text nested `depth` deep, kept as text: JSON.stringify itself recurses and cannot write it. */
class DeepJson {
  constructor(readonly json: string) {}
}

export const nested = (depth: number, leafJson: string, asObject: boolean): DeepJson =>
  new DeepJson(asObject ? `${'{"a":'.repeat(depth)}${leafJson}${"}".repeat(depth)}` : `${"[".repeat(depth)}${leafJson}${"]".repeat(depth)}`);

/** JSON.stringify that writes DeepJson values as their text. */
export function toJson(value: unknown): string {
  const deep: string[] = [];
  const text = JSON.stringify(value, (_key, item: unknown) => (item instanceof DeepJson ? `\u0000deep${deep.push(item.json) - 1}\u0000` : item));
  return text.replace(/"\\u0000deep(\d+)\\u0000"/g, (_match, index: string) => deep[Number(index)]!);
}

/** Strings no input takes: NUL, unpaired surrogates, or beyond every length limit. */
export function hostileText(random: Prng): string {
  return random.pick<() => string>([
    () => `a\u0000b`,
    () => "\u0000".repeat(1 + random.int(50)),
    () => `x\ud800`,
    () => `\udfff${"y".repeat(random.int(20))}`,
    () => `ok${String.fromCharCode(0xd800 + random.int(0x800))}ok`,
    () => "z".repeat(10_001 + random.int(50_000)),
    () => ONE_MB_TEXT,
    () => `${random.bytes(8).toString("latin1")}\u0000`,
  ])();
}

/** Values of the wrong JSON type or shape for the variable they replace. */
export function hostileValue(random: Prng): unknown {
  return random.pick<() => unknown>([
    () => hostileText(random),
    () => random.int(2) === 0,
    () => [hostileText(random)],
    () => ({ unexpected: hostileText(random) }),
    () => nested(5_000, JSON.stringify(hostileText(random)), random.int(2) === 0),
    () => JSON.parse(`{"__proto__": {"polluted": "${"y".repeat(random.int(10))}"}, "a": 1}`) as unknown,
    () => ({ constructor: { prototype: { polluted: true } } }),
    () => random.int(1000) + 0.5,
  ])();
}

/** An operation that carries variables, and where hostile values go in them. */
interface Target {
  query: string;
  variables: (value: unknown) => Record<string, unknown>;
}

const transferInput = { recipient: { phone: "+14165550100" }, fileName: "q4.zip", fileSizeBytes: 1, senderName: "Acme" };
const TARGETS: readonly Target[] = [
  { query: "query ($id: ID!) { transfer(id: $id) { id } }", variables: (value) => ({ id: value }) },
  { query: "mutation ($input: CreateTransferInput!) { createTransfer(input: $input) { id } }", variables: (value) => ({ input: { ...transferInput, fileName: value } }) },
  { query: "mutation ($input: CreateTransferInput!) { createTransfer(input: $input) { id } }", variables: (value) => ({ input: { ...transferInput, recipient: value } }) },
  { query: "mutation ($input: CreateTransferInput!) { createTransfer(input: $input) { id } }", variables: (value) => ({ input: { ...transferInput, description: value } }) },
  { query: "mutation ($id: ID!, $reason: String) { revokeTransfer(id: $id, reason: $reason) { id } }", variables: (value) => ({ id: "tx_none", reason: value }) },
  { query: "query ($filter: ReceiptEventFilter) { receiptEvents(filter: $filter) { edges { cursor } } }", variables: (value) => ({ filter: { provider: value } }) },
  { query: "query ($after: String) { receiptEvents(after: $after) { edges { cursor } } }", variables: (value) => ({ after: value }) },
  { query: "mutation ($input: SuppressAddressInput!) { suppressAddress(input: $input) { kind } }", variables: (value) => ({ input: { phone: "+14165550100", note: value } }) },
  { query: "mutation ($input: RemoveSuppressionInput!) { removeSuppression(input: $input) }", variables: (value) => ({ input: { phone: "+14165550100", consent: value } }) },
];

const aliases = (count: number, field: string) => `{ ${Array.from({ length: count }, (_, index) => `a${index}: ${field}`).join(" ")} }`;

/** GraphQL documents every server must refuse: too large, too deep, too many aliases, or not GraphQL at all. */
export function hostileQuery(random: Prng): string {
  return random.pick<() => string>([
    () => aliases(31 + random.int(3_000), `transfer(id: "tx_x") { id messages { id deliveryAttempts { attempt } } }`),
    () => aliases(31 + random.int(2_000), "receiptEvents(first: 500) { edges { node { id } } }"),
    () => `{ transfer(id: ${"[".repeat(5_000)}1${"]".repeat(5_000)}) { id } }`,
    () => `{ transfer(id: ${"{a:".repeat(5_000)}1${"}".repeat(5_000)}) { id } }`,
    () => `${"{a ".repeat(5_000)}${"}".repeat(5_000)}`,
    () => `{ ${"__typename ".repeat(21 + random.int(500))}}`,
    () => `{ transfer(id: "a\\u0000b") { id } }`,
    () => `{ transfer(id: "x\\ud800") { id } }`,
    () => random.bytes(1 + random.int(200)).toString("latin1"),
    () => Array.from({ length: 1 + random.int(40) }, () => random.pick(["{", "}", "(", ")", "$", "@", "...", "query", "fragment", ":", "!", "[", "]", '"', "#", "|", "&", "=", "on", "mutation"])).join(" "),
    () => `{ __schema { types { fields { type { ${"ofType { ".repeat(20)}name${" }".repeat(20)} } } } } }`,
    () => `{ receiptEvents(first: ${2 ** 31 + random.int(1000)}) { edges { cursor } } }`,
    () => `query { receiptEvents(first: ${10_000 + random.int(1_000_000)}) { edges { node { id } } } }`,
    () => ["", " ", "\n", "#only a comment"][random.int(4)]!,
  ])();
}

/** A GraphQL request, as JSON text, whose query or variables are hostile. */
export function hostileRequest(random: Prng): string {
  if (random.int(2) === 0) return JSON.stringify({ query: hostileQuery(random) });
  const target = random.pick(TARGETS);
  return toJson({ query: target.query, variables: target.variables(hostileValue(random)) });
}

export interface HttpCase {
  name: string;
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

const jsonHeaders = { "content-type": "application/json" };

/** An HTTP request to /graphql that must be answered with a 4xx. */
export function hostileHttpCase(random: Prng): HttpCase {
  const post = (name: string, body: Buffer | string, headers: Record<string, string> = jsonHeaders): HttpCase => ({ name, method: "POST", path: "/graphql", headers, body });
  return random.pick<() => HttpCase>([
    () => post("hostile request", hostileRequest(random)),
    () => post("hostile request", hostileRequest(random)),
    () => post("hostile request", hostileRequest(random)),
    () => post("random bytes", random.bytes(1 + random.int(4_000))),
    () => post("invalid UTF-8", Buffer.concat([Buffer.from('{"query":"{ transfer(id: \\"'), random.pick([Buffer.from([0xff]), Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe2, 0x82])]), Buffer.from('\\") { id } }"}')])),
    () => post("wrong JSON type", random.pick(["[]", "1", '"{ __typename }"', "null", "true", '{"query": 1}', '{"query": {}}', '{"query": ["{ __typename }"]}'])),
    () => post("wrong field type", JSON.stringify({ query: hostileQuery(random), ...random.pick([{ variables: "x" }, { variables: [1] }, { operationName: 5 }, { extensions: "y" }]) })),
    () => post("__proto__ or constructor key", random.pick([`{"__proto__": {"query": "{ __typename }"}, "query": "{ transfer(id: \\"a\\u0000\\") { id } }"}`, `{"query": "{ __typename }", "variables": {"constructor": {"prototype": {"x": 1}}}}`, `{"query": "{ __typename }", "__proto__": {}}`])),
    () => post("nested 5,000 deep", toJson({ query: hostileQuery(random), variables: { input: nested(5_000, "1", random.int(2) === 0) } })),
    () => post("empty body", ""),
    () => post("oversized body", JSON.stringify({ query: `{ transfer(id: "${"x".repeat(MIB)}") { id } }` })),
    () => post("wrong content type", hostileRequest(random), { "content-type": random.pick(["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/graphql", "image/png"]) }),
    () => ({ name: "hostile GET", method: "GET", path: `/graphql?query=${encodeURIComponent(hostileQuery(random).slice(0, 3_000))}`, headers: { "apollo-require-preflight": "true" } }),
    () => ({ name: "mutation over GET", method: "GET", path: `/graphql?query=${encodeURIComponent('mutation { revokeTransfer(id: "tx_x") { id } }')}`, headers: { "apollo-require-preflight": "true" } }),
  ])();
}

export interface FrameCase {
  name: string;
  data: Buffer | string;
  /** Send the bytes in a text frame (a Buffer otherwise goes as a binary frame). */
  text?: boolean;
  /** Initialise the connection with a good token first. */
  initFirst: boolean;
}

/** A raw graphql-ws frame that must make the server close the socket with a client-error code. */
export function hostileFrame(random: Prng): FrameCase {
  return random.pick<() => FrameCase>([
    () => ({ name: "random bytes", data: random.bytes(1 + random.int(2_000)), initFirst: random.int(2) === 0 }),
    () => ({ name: "invalid UTF-8 text", data: Buffer.concat([Buffer.from('{"type":"'), random.pick([Buffer.from([0xff, 0xfe]), Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80])]), Buffer.from('"}')]), text: true, initFirst: random.int(2) === 0 }),
    () => ({ name: "not JSON", data: random.pick(["{", "hello", "", "[[[", "\u0000"]), initFirst: random.int(2) === 0 }),
    () => ({ name: "wrong message shape", data: random.pick(['{"type":5}', '{"type":"subscribe"}', "[]", "null", '{"type":"connection_init","payload":"x"}', '{"type":"subscribe","id":"1","payload":{"query":5}}', '{"type":"subscribe","id":"1","payload":{"query":"{ __typename }","variables":"x"}}', '{"type":"nope"}']), initFirst: random.int(2) === 0 }),
    () => ({ name: "subscribe before init", data: JSON.stringify({ id: "1", type: "subscribe", payload: { query: "{ __typename }" } }), initFirst: false }),
    () => ({ name: "second init", data: JSON.stringify({ type: "connection_init", payload: {} }), initFirst: true }),
    () => ({ name: "init nested 5,000 deep", data: toJson({ type: "connection_init", payload: nested(5_000, "1", true) }), initFirst: false }),
    () => ({ name: "init with __proto__", data: '{"type":"connection_init","payload":{"__proto__":{"Authorization":"Bearer x"}}}', initFirst: false }),
    () => ({ name: "oversized message", data: JSON.stringify({ id: "1", type: "subscribe", payload: { query: `{ transfer(id: "${"x".repeat(MIB)}") { id } }` } }), initFirst: true }),
  ])();
}
