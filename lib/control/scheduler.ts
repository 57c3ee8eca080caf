// Runs each source's backup on its cron schedule (croner, in the server's time zone).
import 'server-only';

import { Cron } from 'croner';

import { db } from '../db/client';
import { sources } from '../db/schema';
import { enqueueBackup } from './job-queue';

const holder = globalThis as unknown as { lifelineCrons?: Map<number, Cron> };
const crons = (holder.lifelineCrons ??= new Map());

/** Starts, changes or stops timers to match the sources table. Safe to call any number of times. */
export function syncSchedules(): void {
  for (const cron of crons.values()) cron.stop();
  crons.clear();
  for (const source of db().select().from(sources).all()) {
    if (!source.schedule) continue;
    crons.set(source.id, new Cron(source.schedule, { protect: true, timezone: source.timezone || undefined }, () => void enqueueBackup(source.id, 'schedule')));
  }
}

export function nextRun(sourceId: number): Date | null {
  return crons.get(sourceId)?.nextRun() ?? null;
}

/** Whether a cron expression is one croner accepts; for form validation. */
export function isValidSchedule(expression: string): boolean {
  try {
    new Cron(expression, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

export function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
