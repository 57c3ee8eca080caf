// Runs each plan on its cron schedules (croner, in the plan's time zone or the server's): a backup of every source
// under it, and, for a plan with a copy schedule, a copy of each into its repository for copies.
import 'server-only';

import { Cron } from 'croner';
import { db } from '../db/client';
import { eq } from 'drizzle-orm';

import { plans, sources } from '../db/schema';
import { enqueueBackup, enqueueCopy } from './job-queue';

/** Keyed `backup:<plan id>` and `copy:<plan id>`. */
const holder = globalThis as unknown as { lifelineCrons?: Map<string, Cron> };
holder.lifelineCrons ??= new Map();
const crons = holder.lifelineCrons;

/** Starts, changes or stops timers to match the plans table. Safe to call any number of times. */
export function syncSchedules(): void {
  for (const cron of crons.values()) cron.stop();
  crons.clear();
  for (const plan of db().select().from(plans).all()) {
    const sourcesOf = () => db().select({ id: sources.id }).from(sources).where(eq(sources.planId, plan.id)).all();
    const options = { protect: true, timezone: plan.timezone || undefined };
    if (plan.schedule)
      crons.set(
        `backup:${plan.id}`,
        new Cron(plan.schedule, options, () => {
          for (const source of sourcesOf()) enqueueBackup(source.id, 'schedule');
        }),
      );
    const copyTo = plan.copyRepositoryId;
    if (copyTo !== null && plan.copySchedule)
      crons.set(
        `copy:${plan.id}`,
        new Cron(plan.copySchedule, options, () => {
          for (const source of sourcesOf()) enqueueCopy(source.id, copyTo, 'schedule');
        }),
      );
  }
}

export function nextRun(planId: number): Date | null {
  return crons.get(`backup:${planId}`)?.nextRun() ?? null;
}

export function nextCopy(planId: number): Date | null {
  return crons.get(`copy:${planId}`)?.nextRun() ?? null;
}

/** Whether a cron expression is one croner accepts; for form validation. */
/** A five-field cron expression (minute hour day month weekday): croner also takes seconds and years, which would
 *  queue a backup every second. */
export function isValidSchedule(expression: string): boolean {
  if (expression.trim().split(/\s+/).length !== 5) return false;
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
