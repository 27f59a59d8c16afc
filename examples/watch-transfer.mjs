// Streams a transfer's status over graphql-ws, one JSON line per update. It ends (exit 0) with a
// one-line summary once the transfer is read or final; --follow keeps watching. When the server
// interrupts the stream, or the connection drops, it subscribes again after the last update it
// printed (`after`), so it misses nothing and prints nothing twice.
// Usage (from the repository folder):
//   ACKLINE_URL=http://127.0.0.1:4000 TOKEN=<jwt> node examples/watch-transfer.mjs <transfer id> [--follow]
import { setTimeout } from "node:timers";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

/** READ: the recipient has seen the notification; the others are final. */
const ENDING_STATUSES = new Set(["READ", "DOWNLOADED", "FAILED", "EXPIRED", "REVOKED"]);
/** Resumptions in a row without an update in between before giving up. */
const MAX_RESUMES = 10;

const TRANSFER_UPDATED = `subscription ($id: ID!, $after: String) {
  transferUpdated(id: $id, after: $after) {
    transfer { id status messages { channel status providerMessageId } }
    event { event channel provider timestamp }
    cursor
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
  // Reconnecting is done below, with the cursor: graphql-ws's own retry would resend the first `after`.
  retryAttempts: 0,
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

/** Where to resume: the cursor of the last update printed (null: none yet, start from the current state). */
let cursor = null;
let resumes = 0;

/**
 * The server ends an interrupted stream with SUBSCRIPTION_INTERRUPTED and the cursor to resume
 * after. A connection that worked and dropped closes with a code below 4000 (4xxx are refusals:
 * a bad token…); one that never worked (a wrong URL) is not retried.
 */
function resumeCursor(error) {
  if (Array.isArray(error)) return error[0]?.extensions?.code === "SUBSCRIPTION_INTERRUPTED" ? error[0].extensions.cursor : undefined;
  const closeCode = typeof error?.code === "number" ? error.code : undefined;
  return updates > 0 && (closeCode === undefined || closeCode < 4000) ? cursor : undefined;
}

function watch() {
  const unsubscribe = client.subscribe(
    { query: TRANSFER_UPDATED, variables: { id, after: cursor } },
    {
      next: ({ data, errors }) => {
        if (errors) {
          fail(errors);
          return unsubscribe();
        }
        const { cursor: position, ...update } = data.transferUpdated;
        cursor = position ?? cursor;
        resumes = 0;
        updates += 1;
        console.log(JSON.stringify(update));
        if (!follow && ENDING_STATUSES.has(update.transfer.status)) {
          console.log(summary(update.transfer));
          unsubscribe();
        }
      },
      error: (error) => {
        const resumeAfter = resumeCursor(error);
        if (resumeAfter !== undefined && resumes < MAX_RESUMES) {
          resumes += 1;
          cursor = resumeAfter;
          console.error(`stream interrupted; resuming ${cursor ? `after ${cursor}` : "from the current state"} (attempt ${resumes})`);
          setTimeout(watch, Math.min(500 * 2 ** resumes, 10_000));
          return;
        }
        fail(error);
        client.dispose();
      },
      // After the last update, or when the server ends the subscription: nothing keeps the process alive.
      complete: () => client.dispose(),
    },
  );
}

watch();
