import { AppDeliveryStatsDocument, type AppDeliveryStatsQuery, type StatsDimension } from "../../generated/graphql";
import type { Api } from "../api";
import { GroupedBars, type Series } from "../charts";
import { ErrorNote, type Loaded, useLoaded } from "../useApi";

type Row = AppDeliveryStatsQuery["receiptStats"][number];

const FUNNEL: Series[] = [
  { name: "sent", className: "bar-sent" },
  { name: "delivered", className: "bar-delivered" },
  { name: "read", className: "bar-read" },
  { name: "downloaded", className: "bar-downloaded" },
];
const PERCENTILES: Series[] = [
  { name: "p50", className: "bar-p50" },
  { name: "p90", className: "bar-p90" },
  { name: "p99", className: "bar-p99" },
];
const DAYS = 30;

const funnelOf = (row: Row) => [row.sent, row.delivered, row.read, row.downloads];
const timeToReadOf = (row: Row) => [row.timeToRead.p50 ?? null, row.timeToRead.p90 ?? null, row.timeToRead.p99 ?? null];
const count = (value: number) => value.toLocaleString();

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** One grouping's charts: the delivery funnel and the time to read, a group of bars per row. */
function StatsCharts({ title, loaded, labelOf, testId }: { title: string; loaded: Loaded<Row[]>; labelOf: (row: Row) => string; testId: string }) {
  return (
    <>
      <h2>{title}</h2>
      {loaded.state === "loading" && <p>Loading…</p>}
      {loaded.state === "failed" && <ErrorNote error={loaded.error} />}
      {loaded.state === "ready" && (
        <div className="charts" data-testid={testId}>
          <GroupedBars title="Delivery funnel (messages)" series={FUNNEL} rows={loaded.data.map((row) => ({ label: labelOf(row), values: funnelOf(row) }))} format={count} />
          <GroupedBars title="Time to read" series={PERCENTILES} rows={loaded.data.map((row) => ({ label: labelOf(row), values: timeToReadOf(row) }))} format={duration} />
        </div>
      )}
    </>
  );
}

/** Delivery funnels and time-to-read percentiles over the last 30 days, by channel and by day (receiptStats). */
export function StatsPage({ api }: { api: Api }) {
  const from = new Date(Date.now() - DAYS * 86_400_000);
  from.setUTCHours(0, 0, 0, 0);
  const load = (groupBy: StatsDimension[]) => () => api.query(AppDeliveryStatsDocument, { groupBy, filter: { from: from.toISOString() } }).then((data) => data.receiptStats);
  const byChannel = useLoaded(load(["CHANNEL"]), "channel");
  const byDay = useLoaded(load(["DAY"]), "day");
  return (
    <section>
      <h1>Statistics, last {DAYS} days</h1>
      <StatsCharts title="By channel" loaded={byChannel} labelOf={(row) => row.key.channel ?? "—"} testId="stats-by-channel" />
      <StatsCharts title="By day" loaded={byDay} labelOf={(row) => row.key.day ?? "—"} testId="stats-by-day" />
    </section>
  );
}
