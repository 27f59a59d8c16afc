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

/**
 * The operation to run: the one named, else the document's first. GraphiQL may still hold the
 * name of an operation the editor no longer has (it updates it after the edit): that one is dropped.
 */
function operationOf(query: string, operationName?: string | null): { kind?: string; operationName?: string } {
  const operations = [...query.matchAll(/(?:^|[\s}])(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/g)];
  const named = operationName ? operations.find((match) => match[2] === operationName) : undefined;
  const chosen = named ?? operations[0];
  return { kind: chosen?.[1] ?? "query", operationName: named ? operationName! : undefined };
}

/** Queries and mutations over HTTP with the editor's headers; subscriptions over graphql-ws with its Authorization. */
const fetcher: Fetcher = (params, options) => {
  const headers = (options?.headers ?? {}) as Record<string, string>;
  const { kind, operationName } = operationOf(params.query, params.operationName);
  if (kind === "subscription") {
    const authorization = headers.Authorization ?? headers.authorization ?? "";
    const results = socketFor(authorization).iterate({ query: params.query, variables: (params.variables ?? undefined) as Record<string, unknown> | undefined, operationName });
    // GraphiQL only displays what it is given: the wire's formatted errors are what it shows for HTTP too.
    return results as unknown as ReturnType<Fetcher>;
  }
  return fetch("/graphql", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ ...params, operationName }) }).then(
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
