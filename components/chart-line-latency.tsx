'use client';

import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

export interface LatencyPoint {
  label: string;
  latencyMs: number | null;
}

/** The agent's probe latency over the last probes (gaps where a probe failed). */
export function ChartLineLatency({ points }: { points: LatencyPoint[] }) {
  return (
    <figure aria-label="Probe latency" className="rounded-lg border border-border bg-card p-3">
      <figcaption className="text-sm font-medium">Probe latency</figcaption>
      {points.length === 0 ? (
        <p className="py-12 text-center text-sm text-muted-foreground">No probes yet.</p>
      ) : (
        <div className="h-40">
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 4 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
              <XAxis dataKey="label" fontSize={11} minTickGap={40} />
              <YAxis fontSize={11} unit=" ms" width={56} />
              <Tooltip formatter={(v) => [`${Number(v).toFixed(1)} ms`, 'latency']} />
              <Line dataKey="latencyMs" stroke="#0369a1" dot={false} isAnimationActive={false} connectNulls={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
}
