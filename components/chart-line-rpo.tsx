'use client';

import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import type { RpoPoint } from '@/lib/rpo-series';

const time = (t: number) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** A source's RPO over time against its target. */
export function ChartLineRpo({
  name,
  points,
  targetMinutes,
}: {
  name: string;
  points: RpoPoint[];
  targetMinutes: number;
}) {
  return (
    <figure aria-label={`RPO over time of ${name}`} className="rounded-lg border border-border bg-card p-3">
      <figcaption className="text-sm font-medium">{name}</figcaption>
      <div className="h-40">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis dataKey="at" type="number" domain={['dataMin', 'dataMax']} tickFormatter={time} fontSize={11} />
            <YAxis fontSize={11} unit=" min" width={64} />
            <Tooltip
              labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
              formatter={(v) => [`${Number(v).toFixed(1)} min`, 'age']}
            />
            <ReferenceLine y={targetMinutes} stroke="#dc2626" strokeDasharray="4 4" />
            <Line type="linear" dataKey="ageMinutes" stroke="#0369a1" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
