// Streams a transfer's status over graphql-ws.
// Usage (from the repository folder): TOKEN=<jwt> node examples/watch-transfer.mjs <transfer id> [ws://127.0.0.1:4000/graphql]
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [id, url = "ws://127.0.0.1:4000/graphql"] = process.argv.slice(2);
if (!id || !process.env.TOKEN) {
  console.error("usage: TOKEN=<jwt> node examples/watch-transfer.mjs <transfer id> [ws url]");
  process.exit(2);
}

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${process.env.TOKEN}` },
});

client.subscribe(
  {
    query: `subscription ($id: ID!) {
      transferUpdated(id: $id) {
        transfer { id status messages { channel status providerMessageId } }
        event { event channel provider timestamp }
      }
    }`,
    variables: { id },
  },
  {
    next: ({ data, errors }) => console.log(JSON.stringify(errors ?? data.transferUpdated)),
    error: (error) => {
      console.error("subscription ended:", error?.reason ?? error?.message ?? error);
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
