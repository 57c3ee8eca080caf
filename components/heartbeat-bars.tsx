'use client';

import { useState } from 'react';

import { useControlEvents } from './use-control-events';

export interface Beat {
  at: number;
  ok: boolean;
  latencyMs: number | null;
}

const KEEP = 120;

/** One bar per probe of a node's agent, newest on the right; new probes arrive live. */
export function HeartbeatBars({ nodeId, initial }: { nodeId: string; initial: Beat[] }) {
  const [beats, setBeats] = useState(initial);
  useControlEvents((event) => {
    if (event.type !== 'node' || event.node.nodeId !== nodeId) return;
    const beat = { at: event.node.at, ok: event.node.probeOk, latencyMs: event.node.latencyMs };
    setBeats((prev) => [...prev, beat].slice(-KEEP));
  });
  return (
    <div role="img" aria-label="Heartbeats" className="mt-2 flex h-8 items-end gap-px">
      {beats.map((b) => (
        <span
          key={b.at}
          title={`${new Date(b.at).toLocaleTimeString()}: ${b.ok ? `up, ${b.latencyMs?.toFixed(1)} ms` : 'no answer'}`}
          className={`h-full w-1.5 rounded-sm ${b.ok ? 'bg-green-500' : 'bg-red-500'}`}
        />
      ))}
    </div>
  );
}
