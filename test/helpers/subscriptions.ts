import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { type FormattedExecutionResult, type GraphQLFormattedError, print } from "graphql";
import type { Client } from "graphql-ws";

export interface CloseInfo {
  code: number;
  reason: string;
}

/** Resolves with the code and reason of the next time this client's socket closes. */
export function nextClose(client: Client): Promise<CloseInfo> {
  return new Promise((resolve) => {
    const off = client.on("closed", (event) => {
      off();
      const { code, reason } = event as { code: number; reason: string };
      resolve({ code, reason: String(reason ?? "") });
    });
  });
}

/**
 * How a subscription ends when the server refuses it: GraphQL errors (delivered in a `next`
 * payload or through the error sink), a close event (the error sink gets the CloseEvent), or
 * data (it was not refused at all).
 */
export type SubscriptionOutcome =
  | { kind: "errors"; errors: readonly GraphQLFormattedError[] }
  | { kind: "closed"; code: number; reason: string }
  | { kind: "data"; data: unknown }
  | { kind: "complete" };

export function firstOutcome<TResult, TVariables extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
  timeoutMs = 15_000,
): Promise<SubscriptionOutcome> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: SubscriptionOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Not synchronously: graphql-ws 6's client counts a dispose from inside `next` and the
      // server's `complete` that follows it in the same tick as two releases, and then closes a
      // lazy socket that other subscriptions still use.
      setTimeout(dispose, 0);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      dispose();
      reject(new Error(`the subscription neither yielded nor ended within ${timeoutMs} ms`));
    }, timeoutMs);
    const dispose = client.subscribe<unknown>(
      { query: print(document), variables },
      {
        next: (value: FormattedExecutionResult<unknown>) => {
          if (value.errors?.length) finish({ kind: "errors", errors: value.errors });
          else finish({ kind: "data", data: value.data });
        },
        error: (error: unknown) => {
          if (Array.isArray(error)) finish({ kind: "errors", errors: error as GraphQLFormattedError[] });
          else if (error && typeof (error as { code?: unknown }).code === "number") {
            const { code, reason } = error as { code: number; reason?: string };
            finish({ kind: "closed", code, reason: String(reason ?? "") });
          } else finish({ kind: "errors", errors: [{ message: String(error) }] });
        },
        complete: () => finish({ kind: "complete" }),
      },
    );
  });
}
