import type { Fetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { type Client, createClient } from "graphql-ws";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "graphiql/style.css";
import "./graphiql.css";

/** Filled in by Ackline when it runs on its embedded default (see src/webapp/explorer.ts); empty otherwise. */
const developmentToken = document.querySelector<HTMLMetaElement>('meta[name="ackline-development-token"]')?.content ?? "";
const endpoint = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/graphql`;

/** One graphql-ws socket per Authorization header the headers editor holds (graphql-ws takes the token once, at connection). */
const sockets = new Map<string, Client>();
function socketFor(authorization: string): Client {
  let socket = sockets.get(authorization);
  if (!socket) {
    socket = createClient({ url: endpoint, connectionParams: authorization ? { Authorization: authorization } : {}, lazy: true, retryAttempts: 0 });
    sockets.set(authorization, socket);
  }
  return socket;
}

const isSubscription = (query: string, operationName?: string | null) => {
  const operations = [...query.matchAll(/(?:^|[\s}])(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g)];
  const chosen = operationName ? operations.find((match) => match[2] === operationName) : operations[0];
  return chosen?.[1] === "subscription";
};

/** Queries and mutations over HTTP with the editor's headers; subscriptions over graphql-ws with its Authorization. */
const fetcher: Fetcher = (params, options) => {
  const headers = (options?.headers ?? {}) as Record<string, string>;
  if (isSubscription(params.query, params.operationName)) {
    const authorization = headers.Authorization ?? headers.authorization ?? "";
    const results = socketFor(authorization).iterate({ query: params.query, variables: (params.variables ?? undefined) as Record<string, unknown> | undefined, operationName: params.operationName ?? undefined });
    // GraphiQL only displays what it is given: the wire's formatted errors are what it shows for HTTP too.
    return results as unknown as ReturnType<Fetcher>;
  }
  return fetch("/graphql", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(params) }).then(
    (response) => response.json() as Promise<Record<string, unknown>>,
  );
};

const defaultHeaders = developmentToken ? JSON.stringify({ Authorization: `Bearer ${developmentToken}` }, null, 2) : JSON.stringify({ Authorization: "Bearer <paste a token>" }, null, 2);
const defaultQuery = `# Ackline's API. ${developmentToken ? "The development token is filled in under Headers." : "Put your token under Headers."}
query RecentTransfers {
  transfers(first: 5) {
    id
    status
    recipient { phone email }
  }
}

# subscription Live {
#   transfersUpdated { transfer { id status } event { event channel timestamp } }
# }
`;

createRoot(document.getElementById("graphiql")!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultHeaders={defaultHeaders} defaultQuery={defaultQuery} isHeadersEditorEnabled shouldPersistHeaders={false} />
  </StrictMode>,
);
