'use client';

import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import type { ChartMark, Range } from '@/lib/chart-range';
import type { RpoPoint } from '@/lib/rpo-series';

import { ChartMarks, markColor, timeAxis } from './chart-marks';

/** A source's RPO over the range against its target, with its failed backups and the failovers marked. */
export function ChartLineRpo({
  name,
  points,
  targetMinutes,
  marks,
  range,
  from,
  to,
}: {
  name: string;
  points: RpoPoint[];
  targetMinutes: number;
  marks: ChartMark[];
  range: Range;
  from: number;
  to: number;
}) {
  return (
    <figure aria-label={`RPO over time of ${name}`} className="rounded-lg border border-border bg-card p-3">
      <figcaption className="text-sm font-medium">{name}</figcaption>
      <div className="h-40">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis {...timeAxis(range, from, to)} />
            <YAxis fontSize={11} unit=" min" width={64} />
            <Tooltip
              labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
              formatter={(v) => [`${Number(v).toFixed(1)} min`, 'age']}
            />
            <ReferenceLine y={targetMinutes} stroke="var(--destructive)" strokeDasharray="4 4" />
            {marks.map((m) => (
              <ReferenceLine
                key={`${m.kind}-${m.at}`}
                x={m.at}
                stroke={markColor(m)}
                strokeDasharray={m.kind === 'failover' ? '2 2' : undefined}
              />
            ))}
            <Line type="linear" dataKey="ageMinutes" stroke="var(--primary)" dot={false} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
      <ChartMarks marks={marks} />
    </figure>
  );
}
