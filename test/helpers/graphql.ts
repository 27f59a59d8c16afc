import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type FormattedExecutionResult, print } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

/** POST /graphql with a typed document; returns the HTTP status and the GraphQL result. */
export async function graphql<TResult, TVariables>(
  url: string,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
  token?: string,
  init: { signal?: AbortSignal } = {},
): Promise<{ status: number; body: FormattedExecutionResult<TResult> }> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: print(document), variables }),
    signal: init.signal,
  });
  return { status: response.status, body: (await response.json()) as FormattedExecutionResult<TResult> };
}

/** POST /graphql with a document as text (for operations no typed document describes). */
export async function postGraphQL(
  url: string,
  request: { query: string; variables?: Record<string, unknown>; operationName?: string },
  token?: string,
): Promise<{ status: number; body: FormattedExecutionResult }> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(request),
  });
  return { status: response.status, body: (await response.json()) as FormattedExecutionResult };
}

export function errorCodes(result: FormattedExecutionResult<unknown>): unknown[] {
  return (result.errors ?? []).map((error) => error.extensions?.code);
}

export function wsClient(wsUrl: string, connectionParams: Record<string, unknown> | undefined): Client {
  return createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

/**
 * A subscription as a pull queue: `next()` resolves with the next payload (or rejects on error);
 * `closed` resolves with the close event when the socket ends.
 */
export function subscribe<TResult, TVariables extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
) {
  const received: Array<FormattedExecutionResult<TResult, Record<string, unknown>>> = [];
  const waiters: Array<{ resolve: (value: FormattedExecutionResult<TResult, Record<string, unknown>>) => void; reject: (error: unknown) => void }> = [];
  let failure: unknown;
  let completed = false;
  const settle = () => {
    while (waiters.length > 0 && (received.length > 0 || failure !== undefined || completed)) {
      const waiter = waiters.shift()!;
      if (received.length > 0) waiter.resolve(received.shift()!);
      else waiter.reject(failure ?? new Error("subscription completed"));
    }
  };
  const dispose = client.subscribe<TResult, Record<string, unknown>>(
    { query: print(document), variables },
    {
      next: (value) => {
        received.push(value);
        settle();
      },
      error: (error) => {
        failure = error;
        settle();
      },
      complete: () => {
        completed = true;
        settle();
      },
    },
  );
  return {
    next(timeoutMs = 10_000): Promise<FormattedExecutionResult<TResult, Record<string, unknown>>> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no subscription payload within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
          },
        });
        settle();
      });
    },
    dispose,
  };
}
