import { useEffect, useState } from "react";
import { AppTransferEventsDocument, AppTransferLiveDocument, type EventRowFragment, type TransferDetailFragment } from "../../generated/graphql";
import type { Api, ApiError } from "../api";
import { ErrorNote, formatTime } from "../useApi";

/** Every stored event of a transfer, page after page. */
async function history(api: Api, transferId: string): Promise<EventRowFragment[]> {
  const events: EventRowFragment[] = [];
  for (let after: string | null | undefined; ; ) {
    const { receiptEvents } = await api.query(AppTransferEventsDocument, { transferId, after });
    events.push(...receiptEvents.edges.map((edge) => edge.node));
    if (!receiptEvents.pageInfo.hasNextPage) return events;
    after = receiptEvents.pageInfo.endCursor;
  }
}

const byTime = (a: EventRowFragment, b: EventRowFragment) => a.timestamp.localeCompare(b.timestamp) || Number(a.id) - Number(b.id);

/**
 * One transfer, live: transferUpdated gives its current state first (and again after each
 * reconnection), then every event as it is stored; the events before that come from the history.
 */
export function TransferPage({ api, id }: { api: Api; id: string }) {
  const [transfer, setTransfer] = useState<TransferDetailFragment | null | undefined>(undefined);
  const [events, setEvents] = useState<EventRowFragment[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    const add = (more: EventRowFragment[]) =>
      setEvents((shown) => {
        const byId = new Map([...shown, ...more].map((event) => [event.id, event]));
        return [...byId.values()].sort(byTime);
      });
    return api.subscribe(
      AppTransferLiveDocument,
      { id },
      ({ transferUpdated: update }) => {
        setError(null);
        setTransfer(update.transfer);
        if (update.event) add([update.event]);
        else history(api, id).then(add, setError);
      },
      (failure) => {
        if (failure.code === "NOT_FOUND") setTransfer(null);
        else setError(failure);
      },
    );
  }, [api, id]);

  if (transfer === null) return <p>No transfer {id} in this tenant.</p>;
  return (
    <section>
      <h1>Transfer {id}</h1>
      {error && <ErrorNote error={error} />}
      {transfer === undefined ? (
        <p>Loading…</p>
      ) : (
        <>
          <p className="summary">
            <span className={`status status-${transfer.status.toLowerCase()}`} data-testid="transfer-status">
              {transfer.status}
            </span>{" "}
            {transfer.fileName} from {transfer.senderName} to {transfer.recipient.phone ?? transfer.recipient.email}
            {transfer.downloadedAt && <> · downloaded {formatTime(transfer.downloadedAt)}</>}
          </p>
          <h2>Messages</h2>
          <table data-testid="messages">
            <thead>
              <tr>
                <th>Channel</th>
                <th>Provider</th>
                <th>Status</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {transfer.messages.map((message) => (
                <tr key={message.id}>
                  <td>{message.channel}</td>
                  <td>{message.provider}</td>
                  <td data-testid={`message-status-${message.id}`}>{message.status}</td>
                  <td>{formatTime(message.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Events</h2>
          <ol className="timeline" data-testid="events">
            {events.map((event) => (
              <li key={event.id} data-testid="event">
                <time dateTime={event.timestamp}>{formatTime(event.timestamp)}</time> <strong>{event.event}</strong> {event.channel ?? "—"} via {event.provider}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
