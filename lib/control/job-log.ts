// A job's log: the steps it took, the engine's phases within each, its warnings (each skipped file, with its
// path), and how it ended. Written as the job runs, sent to open pages as it is written (a `job-log` event), and
// kept with the job. Warnings are bounded per job: a backup of a tree the server may not read could skip millions
// of files, and the snapshot lists them all.
import 'server-only';

import { asc, eq } from 'drizzle-orm';

import { db } from '../db/client';
import { jobLog, jobs, type JobLogEntry, type JobLogKind } from '../db/schema';
import { publish } from './events';

/** Warnings kept per job; those after are counted, and the count is logged as the job ends. */
export const MAX_LOGGED_WARNINGS = 500;

const holder = globalThis as unknown as { lifelineJobWarnings?: Map<number, number> };
holder.lifelineJobWarnings ??= new Map();
const warnings = holder.lifelineJobWarnings;

export function logJob(jobId: number, kind: JobLogKind, message: string, path: string | null = null): void {
  if (kind === 'warning') {
    const seen = (warnings.get(jobId) ?? 0) + 1;
    warnings.set(jobId, seen);
    if (seen > MAX_LOGGED_WARNINGS) return;
  }
  const entry = db().insert(jobLog).values({ jobId, at: Date.now(), kind, message, path }).returning().get();
  const job = db().select({ kind: jobs.kind }).from(jobs).where(eq(jobs.id, jobId)).get();
  if (job) publish({ type: 'job-log', jobKind: job.kind, entry });
}

/** A step of the job begins. */
export function logStep(jobId: number, message: string): void {
  logJob(jobId, 'step', message);
}

/** How many warnings the job has had so far (logged or not). */
export function warningsOf(jobId: number): number {
  return warnings.get(jobId) ?? 0;
}

/** The job has ended: says how many warnings went unlisted, and forgets its count. */
export function closeJobLog(jobId: number): void {
  const seen = warnings.get(jobId) ?? 0;
  warnings.delete(jobId);
  if (seen > MAX_LOGGED_WARNINGS)
    logJob(
      jobId,
      'info',
      `${seen.toLocaleString('en')} warnings in all; the first ${MAX_LOGGED_WARNINGS} are listed here (a backup's snapshot lists every skipped entry)`,
    );
}

export function jobLogOf(jobId: number): JobLogEntry[] {
  return db().select().from(jobLog).where(eq(jobLog.jobId, jobId)).orderBy(asc(jobLog.id)).all();
}
