'use client';

import { useEffect, useRef } from 'react';

import type { NodeLive } from '@/lib/control/node-live';

export type LiveJob = {
  id: number;
  kind: string;
  sourceId: number | null;
  status: string;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  rate?: number;
  etaSeconds?: number | null;
  error: string | null;
  snapshotId: string | null;
};

/** A line of a job's log (lib/control/job-log.ts). */
export type LiveJobLogEntry = {
  id: number;
  jobId: number;
  at: number;
  kind: 'step' | 'phase' | 'warning' | 'info' | 'error';
  message: string;
  path: string | null;
};

/** A node's state as each probe reports it (the server's shape; a type only, nothing of the server's code). */
export type LiveNode = NodeLive;

export type ControlEvent =
  /** `version`: the server's pageVersion() as the stream opened. */
  | { type: 'hello'; jobs: LiveJob[]; nodes: LiveNode[]; version: string }
  | { type: 'job'; job: LiveJob }
  | { type: 'job-log'; jobKind: string; entry: LiveJobLogEntry }
  | { type: 'snapshot'; sourceKey: string; id: string }
  | { type: 'node'; node: LiveNode }
  | { type: 'failover-step'; groupId: string; kind: string; step: string; at: number }
  | { type: 'failover'; groupId: string; eventId: number }
  | { type: 'drill'; groupId: string; ok: boolean };

type Listener = (event: ControlEvent) => void;

/** One EventSource per page, shared by every component that listens (browsers allow few connections per host). */
const listeners = new Set<Listener>();
let stopStream: (() => void) | null = null;

function startStream(): () => void {
  let source: EventSource | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;
  let delay = 1000;
  let stopped = false;
  const emit = (event: ControlEvent) => {
    for (const l of listeners) l(event);
  };
  const connect = () => {
    source = new EventSource('/api/events');
    source.addEventListener('hello', (e) => {
      delay = 1000;
      emit({ type: 'hello', ...JSON.parse((e as MessageEvent).data) });
    });
    for (const type of ['job', 'job-log', 'snapshot', 'node', 'failover-step', 'failover', 'drill'] as const)
      source.addEventListener(type, (e) => emit(JSON.parse((e as MessageEvent).data)));
    source.onerror = () => {
      source?.close();
      if (stopped) return;
      retry = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30_000);
    };
  };
  connect();
  return () => {
    stopped = true;
    source?.close();
    if (retry) clearTimeout(retry);
  };
}

/** Listens to /api/events; reconnects with backoff (1 s doubling to 30 s) when the stream drops. */
export function useControlEvents(onEvent: (event: ControlEvent) => void): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    const listener: Listener = (event) => handler.current(event);
    listeners.add(listener);
    stopStream ??= startStream();
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) {
        stopStream?.();
        stopStream = null;
      }
    };
  }, []);
}
