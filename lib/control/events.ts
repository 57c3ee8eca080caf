// The control plane's event bus: jobs and snapshots announce changes here; the SSE route forwards them.
import { EventEmitter } from 'node:events';

import type { Job, JobLogEntry } from '../db/schema';
import type { NodeLive } from './node-live';
import { changesPages } from './page-events';

export type ControlEvent =
  | { type: 'job'; job: Job }
  /** `jobKind`: a role that may not see where a restore writes sees no restore's log. */
  | { type: 'job-log'; jobKind: Job['kind']; entry: JobLogEntry }
  | { type: 'snapshot'; sourceKey: string; id: string }
  | { type: 'node'; node: NodeLive }
  | { type: 'failover-step'; groupId: string; kind: string; step: string; at: number }
  | { type: 'failover'; groupId: string; eventId: number }
  | { type: 'drill'; groupId: string; ok: boolean };

// On globalThis: Next bundles this module into each route apart, and they must share one bus and one count.
const holder = globalThis as unknown as {
  lifelineBus?: EventEmitter;
  lifelinePages?: { boot: string; changes: number };
};

function pages() {
  // The boot tells this process's count apart from an earlier process's.
  holder.lifelinePages ??= { boot: `${process.pid}.${Date.now().toString(36)}`, changes: 0 };
  return holder.lifelinePages;
}

function bus(): EventEmitter {
  if (!holder.lifelineBus) {
    holder.lifelineBus = new EventEmitter();
    // Every open browser tab listens: there is no small fixed number of them.
    holder.lifelineBus.setMaxListeners(0);
  }
  return holder.lifelineBus;
}

export function publish(event: ControlEvent): void {
  if (changesPages(event)) pages().changes++;
  bus().emit('event', event);
}

/** How far the events that change pages have gone. A page renders with it and its event stream opens with it: where
 *  the two differ, something happened while the page had nobody listening (between its render and its stream's
 *  start, or while the stream was down), and the page re-renders. */
export function pageVersion(): string {
  const { boot, changes } = pages();
  return `${boot}:${changes}`;
}

export function subscribe(listener: (event: ControlEvent) => void): () => void {
  bus().on('event', listener);
  return () => bus().off('event', listener);
}
