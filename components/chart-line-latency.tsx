'use client';

import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

import type { ChartMark, Range } from '@/lib/chart-range';

import { ChartMarks, markColor, timeAxis } from './chart-marks';

export interface LatencyPoint {
  at: number;
  latencyMs: number | null;
}

/** The agent's probe latency over the range (gaps where no probe was answered), failovers marked. */
export function ChartLineLatency({
  points,
  marks,
  range,
  from,
  to,
}: {
  points: LatencyPoint[];
  marks: ChartMark[];
  range: Range;
  from: number;
  to: number;
}) {
  return (
    <figure aria-label="Probe latency" className="rounded-lg border border-border bg-card p-3">
      <figcaption className="text-sm font-medium">Probe latency</figcaption>
      {points.length === 0 ? (
        <p className="py-12 text-center text-sm text-muted-foreground">No probes in this range.</p>
      ) : (
        <div className="h-40">
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 4 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis {...timeAxis(range, from, to)} />
              <YAxis fontSize={11} unit=" ms" width={56} />
              <Tooltip
                labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
                formatter={(v) => [`${Number(v).toFixed(1)} ms`, 'latency']}
              />
              {marks.map((m) => (
                <ReferenceLine key={`${m.kind}-${m.at}`} x={m.at} stroke={markColor(m)} strokeDasharray="2 2" />
              ))}
              <Line
                dataKey="latencyMs"
                stroke="var(--primary)"
                dot={false}
                isAnimationActive={false}
                connectNulls={false}
              />
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
      <ChartMarks marks={marks} />
    </figure>
  );
}
