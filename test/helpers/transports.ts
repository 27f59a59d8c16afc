import type { GraphQLFormattedError } from "graphql";
import { postGraphQL } from "./graphql.js";
import { openRawGraphQLSocket } from "./raw-graphql-ws.js";
import type { TestServer } from "./server.js";
import type { CloseInfo } from "./subscriptions.js";

export const TRANSPORTS = ["HTTP", "graphql-ws"] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** How a server answered one operation: HTTP's status, or graphql-ws's close when it closed instead. */
export interface Answer {
  status?: number;
  closed?: CloseInfo;
  data?: unknown;
  errors?: readonly GraphQLFormattedError[];
}

export interface OperationRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** One operation over HTTP, or over a fresh graphql-ws socket authenticated with `token` (which graphql-ws requires). */
export async function ask(transport: Transport, server: TestServer, request: OperationRequest, token?: string): Promise<Answer> {
  if (transport === "HTTP") {
    const { status, body } = await postGraphQL(server.url, request, token);
    return { status, data: body.data, errors: body.errors };
  }
  const socket = await openRawGraphQLSocket(server.wsUrl, { Authorization: `Bearer ${token}` });
  try {
    const end = await socket.run(request);
    if (end.kind === "error") return { errors: end.errors };
    if (end.kind === "complete") return { data: end.results[0]?.data, errors: end.results[0]?.errors };
    if (end.kind === "closed") return { closed: { code: end.code, reason: end.reason } };
    throw new Error("graphql-ws neither answered nor closed");
  } finally {
    socket.close();
  }
}

export const codesOf = (answer: Answer): unknown[] => (answer.errors ?? []).map((error) => error.extensions?.code);
