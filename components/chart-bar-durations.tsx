'use client';

import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import type { DurationBar } from '@/lib/chart-data';

/** Durations per run: backups (with their new data) or restores (their measured RTO). */
export function ChartBarDurations({ title, bars, color }: { title: string; bars: DurationBar[]; color: string }) {
  return (
    <figure aria-label={title} className="rounded-lg border border-border bg-card p-3">
      <figcaption className="text-sm font-medium">{title}</figcaption>
      {bars.length === 0 ? (
        <p className="py-12 text-center text-sm text-muted-foreground">No runs yet.</p>
      ) : (
        <div className="h-40">
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={bars} margin={{ top: 8, right: 8, bottom: 0, left: 4 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
              <XAxis dataKey="label" fontSize={11} />
              <YAxis fontSize={11} unit=" s" width={56} />
              <Tooltip
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
