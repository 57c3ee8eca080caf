'use client';

import { useRouter } from 'next/navigation';
import { useMemo, useState } from 'react';

import { formatUtc } from '@/lib/format';

import { useControlEvents } from './use-control-events';

export interface Beat {
  at: number;
  ok: boolean;
  latencyMs: number | null;
}

const KEEP = 120;

/** One bar per probe of a node's agent, newest on the right; new probes arrive live. Probes made while the event
 *  stream was down (or not yet open) are read back from the node's history when it opens again: no gap that the
 *  history does not have. */
export function HeartbeatBars({ nodeId, initial }: { nodeId: string; initial: Beat[] }) {
  const router = useRouter();
  const [live, setLive] = useState<Beat[]>([]);
  const beats = useMemo(() => {
    const byTime = new Map<number, Beat>();
    for (const b of [...initial, ...live]) byTime.set(b.at, b);
    return [...byTime.values()].sort((a, b) => a.at - b.at).slice(-KEEP);
  }, [initial, live]);
  const newest = beats.at(-1)?.at ?? 0;
  useControlEvents((event) => {
    if (event.type === 'hello') {
      // The stream (re)opened: a probe newer than the newest bar was missed, and the history has it.
      const state = event.nodes.find((n) => n.nodeId === nodeId);
      if (state && state.at > newest) router.refresh();
      return;
    }
    if (event.type !== 'node' || event.node.nodeId !== nodeId) return;
    const beat = { at: event.node.at, ok: event.node.probeOk, latencyMs: event.node.latencyMs };
    setLive((prev) => [...prev, beat].slice(-KEEP));
  });
  return (
    <div role="img" aria-label="Heartbeats" className="mt-2 flex h-8 items-end gap-px">
      {beats.map((b) => (
        <span
          key={b.at}
          data-at={b.at}
          title={`${formatUtc(b.at)}: ${b.ok ? `up, ${b.latencyMs?.toFixed(1)} ms` : 'no answer'}`}
          className={`h-full w-1.5 rounded-sm ${b.ok ? 'bg-success' : 'bg-destructive'}`}
        />
      ))}
    </div>
  );
}
