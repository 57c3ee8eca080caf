'use client';

import { useEffect, useRef } from 'react';

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

export type ControlEvent = { type: 'hello'; jobs: LiveJob[] } | { type: 'job'; job: LiveJob } | { type: 'snapshot'; sourceKey: string; id: string };

/** Listens to /api/events; reconnects with backoff (1 s doubling to 30 s) when the stream drops. */
export function useControlEvents(onEvent: (event: ControlEvent) => void): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let delay = 1000;
    let stopped = false;
    const connect = () => {
      source = new EventSource('/api/events');
      source.addEventListener('hello', (e) => {
        delay = 1000;
        handler.current({ type: 'hello', ...JSON.parse((e as MessageEvent).data) });
      });
      for (const type of ['job', 'snapshot'] as const) source.addEventListener(type, (e) => handler.current(JSON.parse((e as MessageEvent).data)));
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
  }, []);
}
