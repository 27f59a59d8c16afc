import { useEffect, useState } from "react";
import { AppRecentTransfersDocument, AppTransfersUpdatedDocument, type TransferSummaryFragment } from "../../generated/graphql";
import type { Api, ApiError } from "../api";
import { Link } from "../Link";
import { ErrorNote, formatTime } from "../useApi";

const SHOWN = 50;

/** The tenant's recent transfers, newest first, each row kept current by transfersUpdated. */
export function TransfersPage({ api }: { api: Api }) {
  const [transfers, setTransfers] = useState<TransferSummaryFragment[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    const upsert = (changed: TransferSummaryFragment[]) =>
      setTransfers((shown) => {
        const byId = new Map((shown ?? []).map((transfer) => [transfer.id, transfer]));
        for (const transfer of changed) {
          const known = byId.get(transfer.id);
          // Updates may overtake each other: keep the latest state of each.
          if (!known || known.updatedAt <= transfer.updatedAt) byId.set(transfer.id, transfer);
        }
        return [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, SHOWN);
      });
    // Live first, then the list: nothing changed in between is missed.
    const unsubscribe = api.subscribe(AppTransfersUpdatedDocument, {}, (data) => upsert([data.transfersUpdated.transfer]), setError);
    api.query(AppRecentTransfersDocument, { first: SHOWN }).then((data) => upsert(data.transfers), setError);
    return unsubscribe;
  }, [api]);

  return (
    <section>
      <h1>Recent transfers</h1>
      {error && <ErrorNote error={error} />}
      {transfers === null ? (
        <p>Loading…</p>
      ) : transfers.length === 0 ? (
        <p>No transfers yet. They appear here as they are created.</p>
      ) : (
        <table data-testid="transfers">
          <thead>
            <tr>
              <th>Created</th>
              <th>Recipient</th>
              <th>File</th>
              <th>From</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {transfers.map((transfer) => (
              <tr key={transfer.id} data-testid={`transfer-${transfer.id}`}>
                <td>{formatTime(transfer.createdAt)}</td>
                <td>
                  <Link to={`/app/transfers/${encodeURIComponent(transfer.id)}`}>{transfer.recipient.phone ?? transfer.recipient.email}</Link>
                </td>
                <td>{transfer.fileName}</td>
                <td>{transfer.senderName}</td>
                <td>
                  <span className={`status status-${transfer.status.toLowerCase()}`}>{transfer.status}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
