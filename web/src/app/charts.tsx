/** Small SVG charts, drawn here: nothing to load from elsewhere, nothing the page's policy must allow. */

export interface Series {
  name: string;
  className: string;
}

export interface GroupedRow {
  label: string;
  values: Array<number | null>;
}

const ROW_HEIGHT = 14;
const GROUP_GAP = 10;
const LABEL_WIDTH = 110;
const CHART_WIDTH = 640;

/**
 * Horizontal grouped bars: one group per row (a channel, a day), one bar per series, each bar
 * labelled with its value. Bars share one scale, so groups compare at a glance.
 */
export function GroupedBars({ title, series, rows, format }: { title: string; series: Series[]; rows: GroupedRow[]; format: (value: number) => string }) {
  const max = Math.max(1, ...rows.flatMap((row) => row.values.map((value) => value ?? 0)));
  const groupHeight = series.length * ROW_HEIGHT + GROUP_GAP;
  const height = rows.length * groupHeight + 24;
  const barSpace = CHART_WIDTH - LABEL_WIDTH - 70;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${CHART_WIDTH} ${height}`} width="100%" role="img" aria-label={title}>
        {rows.map((row, rowIndex) => {
          const top = rowIndex * groupHeight;
          return (
            <g key={row.label} transform={`translate(0 ${top})`}>
              <text x={0} y={(series.length * ROW_HEIGHT) / 2 + 4} className="axis-label">
                {row.label}
              </text>
              {series.map((serie, index) => {
                const value = row.values[index];
                const width = value === null || value === undefined ? 0 : (value / max) * barSpace;
                return (
                  <g key={serie.name} transform={`translate(${LABEL_WIDTH} ${index * ROW_HEIGHT})`}>
                    <rect width={Math.max(width, 1)} height={ROW_HEIGHT - 3} className={serie.className}>
                      <title>{`${row.label} · ${serie.name}: ${value === null || value === undefined ? "n/a" : format(value)}`}</title>
                    </rect>
                    <text x={width + 4} y={ROW_HEIGHT - 5} className="value-label">
                      {value === null || value === undefined ? "n/a" : format(value)}
                    </text>
                  </g>
                );
              })}
            </g>
          );
        })}
        <g transform={`translate(${LABEL_WIDTH} ${height - 12})`}>
          {series.map((serie, index) => (
            <g key={serie.name} transform={`translate(${index * 110} 0)`}>
              <rect width={10} height={10} y={-9} className={serie.className} />
              <text x={14} className="value-label">
                {serie.name}
              </text>
            </g>
          ))}
        </g>
      </svg>
    </figure>
  );
}
