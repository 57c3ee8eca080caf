'use client';

import Link from 'next/link';
import { useState } from 'react';

import { formatAge } from '@/lib/format';

import { useNow } from './time';
import { useControlEvents, type LiveNode } from './use-control-events';

export interface TileNode {
  id: string;
  name: string;
  service: string;
}

function verdict(n: LiveNode | undefined): { text: string; tone: 'ok' | 'standby' | 'down' | 'unknown' } {
  if (!n) return { text: 'Waiting for the first probe', tone: 'unknown' };
  if (!n.agentUp) return { text: 'Agent unreachable', tone: 'down' };
  if (n.serviceState === 'exited') return { text: 'Service down (exited)', tone: 'down' };
  if (n.isGroupPrimary)
    return n.serviceState === 'running' && n.serviceUp !== false
      ? { text: 'Serving', tone: 'ok' }
      : { text: 'Service down', tone: 'down' };
  return { text: 'Standby', tone: 'standby' };
}

const TONE = {
  ok: 'border-success/40 bg-success/10',
  standby: 'border-primary/40 bg-primary/10',
  down: 'border-destructive/40 bg-destructive/10',
  unknown: 'border-border bg-muted',
} as const;

/** One tile per member, updated live from each probe (a snapshot on connect, then every probe's result). */
export function NodeTiles({
  groupId,
  members,
  initial,
}: {
  groupId: string;
  members: TileNode[];
  initial: LiveNode[];
}) {
  const [live, setLive] = useState(() => new Map(initial.map((n) => [n.nodeId, n])));
  // Null until the browser renders: the server's render and the browser's first agree (no hydration error).
  const now = useNow(1000);
  useControlEvents((event) => {
    if (event.type === 'hello')
      setLive(new Map(event.nodes.filter((n) => n.groupId === groupId).map((n) => [n.nodeId, n])));
    else if (event.type === 'node' && event.node.groupId === groupId)
      setLive((prev) => new Map(prev).set(event.node.nodeId, event.node));
  });
  return (
    <div className="mt-3 grid gap-3 sm:grid-cols-2">
      {members.map((m) => {
        const n = live.get(m.id);
        const v = verdict(n);
        return (
          <article
            key={m.id}
            aria-label={`Node ${m.name}`}
            data-status={v.tone}
            className={`rounded-lg border p-4 ${TONE[v.tone]}`}
          >
            <div className="flex items-baseline justify-between">
              <h3 className="font-medium">
                <Link href={`/nodes/${m.id}`} className="hover:underline">
                  {m.name}
                </Link>
              </h3>
              <span className="rounded bg-card px-2 py-0.5 text-xs font-medium uppercase tracking-wide">
                {n?.isGroupPrimary ? 'primary' : 'standby'}
              </span>
            </div>
            <p className="mt-1 text-lg font-semibold">{v.text}</p>
            <dl className="mt-2 grid grid-cols-2 gap-x-3 text-xs text-foreground">
              <dt>Service</dt>
              <dd className="font-mono">{m.service}</dd>
              <dt>Agent latency</dt>
              <dd>{n?.latencyMs == null ? '—' : `${n.latencyMs} ms`}</dd>
              <dt>{n?.isGroupPrimary ? 'Last shipped' : 'Data from'}</dt>
              <dd>
                {!n?.dataTime ? 'none yet' : now === null ? '…' : `${formatAge(Math.max(0, now - n.dataTime))} ago`}
              </dd>
            </dl>
            {n?.failsafe ? (
              <p className="mt-2 text-xs text-warning-text">
                Serving in failsafe mode: the control plane is unreachable, and every peer confirms it.
              </p>
            ) : null}
            {n?.exposed ? (
              <p role="alert" className="mt-2 text-xs font-medium text-warning-text">
                Warning: {n.exposed}.
              </p>
            ) : null}
            {n?.shippingStalled ? (
              <p className="mt-2 text-xs font-medium text-destructive-text">
                Shipping stalled: the standbys have had no new data for three intervals.
              </p>
            ) : null}
            {n?.error ? <p className="mt-2 text-xs text-destructive-text">{n.error}</p> : null}
          </article>
        );
      })}
    </div>
  );
}

/** The steps of a failover or switchover as they happen. */
export function FailoverSteps({ groupId }: { groupId: string }) {
  const [steps, setSteps] = useState<{ step: string; at: number; kind: string }[]>([]);
  useControlEvents((event) => {
    if (event.type === 'failover-step' && event.groupId === groupId)
      setSteps((prev) => [...prev.slice(-11), { step: event.step, at: event.at, kind: event.kind }]);
  });
  if (steps.length === 0) return null;
  return (
    <ol aria-label="Live failover steps" className="mt-3 rounded-md border border-border bg-card p-3 font-mono text-xs">
      {steps.map((s, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: steps are only ever appended
        <li key={i}>
          {new Date(s.at).toLocaleTimeString()}.{String(s.at % 1000).padStart(3, '0')} {s.step}
        </li>
      ))}
    </ol>
  );
}
