import { escapeHtml, page } from "../recipient/pages.js";

/** What embedded mode adds to the root page: it is a developer's own machine. */
export interface DevelopmentHelp {
  token: string;
  /** Where the generated generic webhook secret is kept. */
  secretsFile: string;
}

export interface RootPageContent {
  version: string;
  baseUrl: string;
  development?: DevelopmentHelp;
}

const ENDPOINTS: ReadonlyArray<[path: string, what: string]> = [
  ["/graphql", "the GraphQL API; in a browser, its explorer (graphql-ws subscriptions on the same path)"],
  ["/healthz", "alive"],
  ["/readyz", "database and pubsub reachable"],
  ["/metrics", "Prometheus metrics"],
];

/** A single-quoted shell word, whatever the text holds. */
const shellWord = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** A signed delivery receipt for the generic door, as the simulator (or a CPaaS) would post it. */
function testWebhookCommand(baseUrl: string, secretsFile: string, now: Date): string {
  const body = JSON.stringify({ event: "message.delivered", timestamp: now.toISOString(), message_id: "sim_test", channel: "rcs", carrier: "310260" });
  return [
    `export ACKLINE_URL=${shellWord(baseUrl)}`,
    "# the generated secret (else your WEBHOOK_GENERIC_SECRET)",
    `WEBHOOK_GENERIC_SECRET=$(node -p 'JSON.parse(fs.readFileSync(process.argv[1])).genericWebhookSecret' ${shellWord(secretsFile)})`,
    `BODY=${shellWord(body)}`,
    `SIG=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$WEBHOOK_GENERIC_SECRET" -hex | sed 's/^.* //')`,
    `curl -s "$ACKLINE_URL/webhooks/generic" -H 'Content-Type: application/json' -H "X-Webhook-Signature: $SIG" -d "$BODY"`,
  ].join("\n");
}

function developmentSection(baseUrl: string, development: DevelopmentHelp, now: Date): string {
  return `<h2>Embedded mode</h2>
<p>Development token (tenant demo, every scope, valid 24 h), for <code>Authorization: Bearer …</code>:</p>
<pre id="development-token">${escapeHtml(development.token)}</pre>
<p>A test webhook, signed with the generic door's HMAC like the simulator's receipts (its unknown message id is stored unmatched):</p>
<pre id="test-webhook">${escapeHtml(testWebhookCommand(baseUrl, development.secretsFile, now))}</pre>`;
}

/** The root page: what this server is and where to go next. No scripts (the CSP allows none). */
export function rootPage(content: RootPageContent, now = new Date()): string {
  const links = ENDPOINTS.map(([path, what]) => `<li><a href="${path}">${path}</a>: ${escapeHtml(what)}</li>`).join("\n");
  return page(
    `Ackline ${content.version}`,
    `<h1>Ackline <small>${escapeHtml(content.version)}</small></h1>
<p>Transfer notifications with proof: Ackline sends them over RCS, SMS and email, takes the providers' delivery webhooks at <code>/webhooks/&lt;provider&gt;</code>, and streams every receipt to GraphQL subscribers.</p>
<ul>
${links}
</ul>
${content.development ? developmentSection(content.baseUrl, content.development, now) : ""}`,
  );
}
