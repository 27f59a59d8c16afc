// Streams a transfer's status over graphql-ws, one JSON line per update. It ends (exit 0) with a
// one-line summary once the transfer is read or final; --follow keeps watching.
// Usage (from the repository folder):
//   ACKLINE_URL=http://127.0.0.1:4000 TOKEN=<jwt> node examples/watch-transfer.mjs <transfer id> [--follow]
import { createClient } from "graphql-ws";
import WebSocket from "ws";

/** READ: the recipient has seen the notification; the others are final. */
const ENDING_STATUSES = new Set(["READ", "DOWNLOADED", "FAILED", "EXPIRED", "REVOKED"]);

const TRANSFER_UPDATED = `subscription ($id: ID!) {
  transferUpdated(id: $id) {
    transfer { id status messages { channel status providerMessageId } }
    event { event channel provider timestamp }
  }
}`;

const args = process.argv.slice(2);
const follow = args.includes("--follow");
const [id] = args.filter((arg) => !arg.startsWith("--"));
const baseUrl = (process.env.ACKLINE_URL || "http://127.0.0.1:4000").replace(/\/+$/, "");
if (!id || !process.env.TOKEN) {
  console.error("usage: ACKLINE_URL=<base url> TOKEN=<jwt> node examples/watch-transfer.mjs <transfer id> [--follow]");
  process.exit(2);
}

const client = createClient({
  url: `${baseUrl.replace(/^http/, "ws")}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${process.env.TOKEN}` },
});

const startedAt = Date.now();
let updates = 0;

function summary(transfer) {
  const messages = transfer.messages.map((message) => `${message.channel} ${message.status}`).join(", ");
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  return `done: ${transfer.id} is ${transfer.status} (${messages}), ${updates} ${updates === 1 ? "update" : "updates"} in ${seconds} s`;
}

/** GraphQL errors arrive as an array, a refused connection as a close event. */
function fail(error) {
  const reason = Array.isArray(error) ? error.map((item) => item.message).join("; ") : error?.reason || error?.message || String(error);
  console.error(`subscription ended: ${reason}`);
  process.exitCode = 1;
}

const unsubscribe = client.subscribe(
  { query: TRANSFER_UPDATED, variables: { id } },
  {
    next: ({ data, errors }) => {
      if (errors) {
        fail(errors);
        return unsubscribe();
      }
      const update = data.transferUpdated;
      updates += 1;
      console.log(JSON.stringify(update));
      if (!follow && ENDING_STATUSES.has(update.transfer.status)) {
        console.log(summary(update.transfer));
        unsubscribe();
      }
    },
    error: (error) => {
      fail(error);
      client.dispose();
    },
    // After the last update, or when the server ends the subscription: nothing keeps the process alive.
    complete: () => client.dispose(),
  },
);
