// Notifications: a failed job, an RPO breach and its recovery, a test. Each goes to every channel as a delivery,
// retried with backoff and logged.
import 'server-only';

import { eq } from 'drizzle-orm';

import { db } from '../db/client';
import { deliveries, notificationChannels, type NotificationChannel } from '../db/schema';

export type NotificationEvent =
  | { type: 'job-failed'; job: number; source: string; error: string }
  | { type: 'rpo-breached'; source: string; ageMinutes: number; targetMinutes: number }
  | { type: 'rpo-recovered'; source: string }
  | { type: 'test'; by: string };

/** Waits between attempts: four tries in about half a minute. */
const BACKOFF_MS = [0, 1000, 5000, 20000];
const TIMEOUT_MS = 5000;

export function notify(event: NotificationEvent): void {
  for (const channel of db().select().from(notificationChannels).all()) void deliver(channel, event);
}

export async function deliver(channel: NotificationChannel, event: NotificationEvent): Promise<boolean> {
  const payload = JSON.stringify({ ...event, at: new Date().toISOString(), from: 'lifeline' });
  const row = db().insert(deliveries).values({ channelId: channel.id, event: event.type, payload, status: 'pending', createdAt: Date.now() }).returning().get();
  for (let attempt = 0; attempt < BACKOFF_MS.length; attempt++) {
    if (BACKOFF_MS[attempt]) await new Promise((r) => setTimeout(r, BACKOFF_MS[attempt]));
    let error: string | null = null;
    try {
      const res = await fetch(channel.target, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: payload, signal: AbortSignal.timeout(TIMEOUT_MS) });
      if (res.ok) {
        db().update(deliveries).set({ status: 'delivered', attempts: attempt + 1, deliveredAt: Date.now(), lastError: null }).where(eq(deliveries.id, row.id)).run();
        return true;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).message;
    }
    db()
      .update(deliveries)
      .set({ attempts: attempt + 1, lastError: error, status: attempt + 1 === BACKOFF_MS.length ? 'failed' : 'pending' })
      .where(eq(deliveries.id, row.id))
      .run();
  }
  return false;
}
