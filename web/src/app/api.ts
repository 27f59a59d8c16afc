import { type Client, createClient } from "graphql-ws";
import type { TypedDocumentString } from "../generated/graphql";

/** A GraphQL error as the API reports it: its message and `extensions.code`. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

type Result<T> = { data?: T | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };

function unwrap<T>(result: Result<T>): T {
  const [error] = result.errors ?? [];
  if (error) throw new ApiError(error.message, error.extensions?.code);
  return result.data!;
}

/**
 * The API as the app calls it, with one token: typed queries over HTTP, typed subscriptions over
 * one graphql-ws socket that reconnects (after a restart, or a 4429 when the tab fell behind) and
 * subscribes again, each subscription then starting from the current state.
 */
export class Api {
  private readonly socket: Client;

  constructor(private readonly token: string) {
    this.socket = createClient({
      url: `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/graphql`,
      connectionParams: { Authorization: `Bearer ${token}` },
      lazy: true,
      retryAttempts: Infinity,
      // A refused token (4403) will not get better by retrying.
      shouldRetry: (event) => (event as CloseEvent | undefined)?.code !== 4403,
    });
  }

  async query<R, V>(document: TypedDocumentString<R, V>, variables: V): Promise<R> {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
    return unwrap((await response.json()) as Result<R>);
  }

  /** Calls `onData` with each payload until the returned function is called. */
  subscribe<R, V>(document: TypedDocumentString<R, V>, variables: V, onData: (data: R) => void, onError: (error: ApiError) => void): () => void {
    return this.socket.subscribe<R>(
      { query: document.toString(), variables: variables as Record<string, unknown> },
      {
        next: (result) => {
          try {
            onData(unwrap(result as Result<R>));
          } catch (error) {
            onError(error as ApiError);
          }
        },
        error: (error) => onError(Array.isArray(error) ? new ApiError((error as Array<{ message: string }>)[0]?.message ?? "subscription failed") : new ApiError("the live connection closed")),
        complete: () => {},
      },
    );
  }

  dispose(): void {
    void this.socket.dispose();
  }
}
