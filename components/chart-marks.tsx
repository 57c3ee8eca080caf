import { axisTime, type ChartMark, type Range } from '@/lib/chart-range';

import { LocalTime } from './time';

export const markColor = (m: ChartMark) => (m.kind === 'failed' ? 'var(--destructive)' : 'var(--warning)');

/** The newest marks listed under a chart; the chart draws them all. */
const LISTED = 5;

/** What a chart's vertical lines mark, listed under it (the lines alone say nothing to a screen reader). */
export function ChartMarks({ marks }: { marks: ChartMark[] }) {
  if (marks.length === 0) return null;
  const listed = marks.slice(-LISTED);
  return (
    <ul aria-label="Marked on the chart" className="mt-2 space-y-0.5 text-xs text-muted-foreground">
      {marks.length > LISTED ? <li>{marks.length - LISTED} earlier ones, and:</li> : null}
      {listed.map((m) => (
        <li key={`${m.kind}-${m.at}`}>
          <span aria-hidden="true" className={m.kind === 'failed' ? 'text-destructive-text' : 'text-warning-text'}>
            {m.kind === 'failed' ? '┃ ' : '┆ '}
          </span>
          <LocalTime at={m.at} /> {m.label}
        </li>
      ))}
    </ul>
  );
}

/** A chart's time axis over [from, to], labelled for the range (spread into Recharts' XAxis). */
export function timeAxis(range: Range, from: number, to: number) {
  return {
    dataKey: 'at',
    type: 'number' as const,
    domain: [from, to],
    tickFormatter: (t: number) => axisTime(Number(t), range),
    fontSize: 11,
    minTickGap: 40,
  };
}
