'use client';

import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import type { Range } from '@/lib/chart-range';
import { formatBytes } from '@/lib/format';

import { timeAxis } from './chart-marks';

export interface GrowthPoint {
  at: number;
  /** What the repository's packs take. */
  packBytes: number;
  /** The content its snapshots name, counted in each. */
  logicalBytes: number;
}

/** A repository's size over the range: what it stores against what its snapshots hold (17.2). */
export function ChartLineGrowth({
  name,
  points,
  range,
  from,
  to,
}: {
  name: string;
  points: GrowthPoint[];
  range: Range;
  from: number;
  to: number;
}) {
  return (
    <figure aria-label={`Growth of ${name}`} className="rounded-lg border border-border bg-card p-3">
      <figcaption className="text-sm font-medium">{name}</figcaption>
      <div className="h-48">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis {...timeAxis(range, from, to)} />
            <YAxis fontSize={11} width={72} tickFormatter={(v) => formatBytes(Number(v))} />
            <Tooltip
              labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
              formatter={(v, key) => [formatBytes(Number(v)), key === 'packBytes' ? 'stored' : 'in snapshots']}
            />
            <Legend formatter={(key) => (key === 'packBytes' ? 'stored' : 'in snapshots')} />
            <Line type="stepAfter" dataKey="packBytes" stroke="var(--primary)" dot isAnimationActive={false} />
            <Line type="stepAfter" dataKey="logicalBytes" stroke="var(--success)" dot isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
