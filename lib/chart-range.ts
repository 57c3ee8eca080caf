// The time ranges the console's charts show: the last hour, day, week or month. Shared by the pages (which read
// `?range=`) and the charts (which label their axes by it).

export const RANGES = {
  hour: 60 * 60_000,
  day: 24 * 60 * 60_000,
  week: 7 * 24 * 60 * 60_000,
  month: 30 * 24 * 60 * 60_000,
};
export type Range = keyof typeof RANGES;
export const RANGE_NAMES = Object.keys(RANGES) as Range[];

/** `?range=` as a page gets it: anything else is the day. */
export function parseRange(value: unknown): Range {
  return typeof value === 'string' && value in RANGES ? (value as Range) : 'day';
}

/** A time on a chart's axis: the clock within a day, the date and hour beyond. */
export function axisTime(at: number, range: Range): string {
  const date = new Date(at);
  return range === 'hour' || range === 'day'
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit' });
}

/** A moment a chart marks: a failover, a failed job. */
export interface ChartMark {
  at: number;
  label: string;
  kind: 'failover' | 'failed';
}
