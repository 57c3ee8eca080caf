// The control plane's event bus: jobs and snapshots announce changes here; the SSE route forwards them.
import { EventEmitter } from 'node:events';

import type { Job } from '../db/schema';
import type { NodeLive } from './node-live';

export type ControlEvent =
  | { type: 'job'; job: Job }
  | { type: 'snapshot'; sourceKey: string; id: string }
  | { type: 'node'; node: NodeLive }
  | { type: 'failover-step'; groupId: string; kind: string; step: string; at: number }
  | { type: 'failover'; groupId: string; eventId: number }
  | { type: 'drill'; groupId: string; ok: boolean };

const holder = globalThis as unknown as { lifelineBus?: EventEmitter };

function bus(): EventEmitter {
  if (!holder.lifelineBus) {
    holder.lifelineBus = new EventEmitter();
    // Every open browser tab listens: there is no small fixed number of them.
    holder.lifelineBus.setMaxListeners(0);
  }
  return holder.lifelineBus;
}

export function publish(event: ControlEvent): void {
  bus().emit('event', event);
}

export function subscribe(listener: (event: ControlEvent) => void): () => void {
  bus().on('event', listener);
  return () => bus().off('event', listener);
}
