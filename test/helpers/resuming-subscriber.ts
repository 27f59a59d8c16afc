import { type FormattedExecutionResult, type GraphQLFormattedError, print } from "graphql";
import type { Client } from "graphql-ws";
import postgres from "postgres";
import { TransferUpdatedDocument, type TransferUpdatedSubscription } from "../generated/graphql.js";

export interface ReceivedEvent {
  id: string;
  event: string;
  cursor: string;
}

/**
 * Watches a transfer as the README tells clients to: when the server ends the subscription with
 * SUBSCRIPTION_INTERRUPTED it subscribes again, after `retryMs`, with the cursor the error gives.
 * Any other error is kept for the test to fail on.
 */
export function resumingSubscriber(client: Client, transferId: string, options: { after?: string; retryMs?: number } = {}) {
  const events: ReceivedEvent[] = [];
  /** The cursor each interruption gave. */
  const interruptions: string[] = [];
  const failures: unknown[] = [];
  let initialStates = 0;
  let cursor: string | null = options.after ?? null;
  let stopped = false;
  let dispose = () => {};
  const subscribe = () => {
    dispose = client.subscribe<TransferUpdatedSubscription>(
      { query: print(TransferUpdatedDocument), variables: { id: transferId, after: cursor } },
      {
        next: ({ data, errors }: FormattedExecutionResult<TransferUpdatedSubscription>) => {
          if (errors) failures.push(errors);
          const update = data?.transferUpdated;
          if (!update) return;
          if (!update.event) {
            initialStates += 1;
            return;
          }
          events.push({ id: update.event.id, event: update.event.event, cursor: update.cursor! });
          cursor = update.cursor!;
        },
        error: (error: unknown) => {
          const [first] = Array.isArray(error) ? (error as GraphQLFormattedError[]) : [];
          if (first?.extensions?.code !== "SUBSCRIPTION_INTERRUPTED") {
            failures.push(error);
            return;
          }
          cursor = first.extensions.cursor as string;
          interruptions.push(cursor);
          if (!stopped) setTimeout(subscribe, options.retryMs ?? 200);
        },
        complete: () => {},
      },
    );
  };
  subscribe();
  return {
    events,
    interruptions,
    failures,
    initialStates: () => initialStates,
    stop() {
      stopped = true;
      dispose();
    },
  };
}

/** A transfer's stored events in the order subscribers must get them (their sequence numbers). */
export async function eventIdsInOrder(databaseUrl: string, transferId: string, afterSeq = 0): Promise<string[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<Array<{ id: string }>>`SELECT id::text AS id FROM receipt_events WHERE transfer_id = ${transferId} AND seq > ${afterSeq} ORDER BY seq`;
    return rows.map((row) => row.id);
  } finally {
    await sql.end();
  }
}

/** A transfer's sequence numbers as stored: each folded event's, in order, and the transfer's last. */
export async function storedSequence(databaseUrl: string, transferId: string): Promise<{ eventSeqs: number[]; transferSeq: number }> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const events = await sql<Array<{ seq: string }>>`SELECT seq::text AS seq FROM receipt_events WHERE transfer_id = ${transferId} ORDER BY seq`;
    const [transfer] = await sql<Array<{ event_seq: string }>>`SELECT event_seq::text AS event_seq FROM transfers WHERE id = ${transferId}`;
    return { eventSeqs: events.map((row) => Number(row.seq)), transferSeq: Number(transfer!.event_seq) };
  } finally {
    await sql.end();
  }
}
