'use client';

import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import type { DurationBar } from '@/lib/chart-data';
import { axisTime, type Range } from '@/lib/chart-range';

/** Durations per run in the range: backups (with their new data) or restores (their measured RTO). Each run is
 *  labelled in the browser's zone. */
export function ChartBarDurations({
  title,
  bars,
  color,
  range,
}: {
  title: string;
  bars: DurationBar[];
  color: string;
  range: Range;
}) {
  return (
    <figure aria-label={title} className="rounded-lg border border-border bg-card p-3">
      <figcaption className="text-sm font-medium">{title}</figcaption>
      {bars.length === 0 ? (
        <p className="py-12 text-center text-sm text-muted-foreground">No runs in this range.</p>
      ) : (
        <div className="h-40">
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={bars} margin={{ top: 8, right: 8, bottom: 0, left: 4 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis dataKey="at" tickFormatter={(t) => axisTime(Number(t), range)} fontSize={11} />
              <YAxis fontSize={11} unit=" s" width={56} />
              <Tooltip
                labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
                formatter={(v, _n, item) => [
                  `${Number(v).toFixed(1)} s · ${(item.payload as DurationBar).detail}`,
                  'duration',
                ]}
              />
              <Bar dataKey="seconds" fill={color} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
}
