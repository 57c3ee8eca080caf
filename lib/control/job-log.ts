// A job's log: the steps it took, the engine's phases within each, its warnings (each skipped file, with its
// path), and how it ended. Written as the job runs, sent to open pages as it is written (a `job-log` event), and
// kept with the job. Warnings are bounded per job: a backup of a tree the server may not read could skip millions
// of files, and the snapshot lists them all.
import 'server-only';

import { asc, eq } from 'drizzle-orm';

import { db } from '../db/client';
import { type Job, jobLog, type JobLogEntry, type JobLogKind } from '../db/schema';
import { publish } from './events';

/** Warnings kept per job; those after are counted, and the count is logged as the job ends. */
export const MAX_LOGGED_WARNINGS = 500;

const holder = globalThis as unknown as { lifelineJobWarnings?: Map<number, number> };
holder.lifelineJobWarnings ??= new Map();
const warnings = holder.lifelineJobWarnings;

/** The job a line is logged for: its kind tags the event, so that pages of other kinds ignore it. */
type LoggedJob = Pick<Job, 'id' | 'kind'>;

export function logJob(job: LoggedJob, kind: JobLogKind, message: string, path: string | null = null): void {
  if (kind === 'warning') {
    const seen = (warnings.get(job.id) ?? 0) + 1;
    warnings.set(job.id, seen);
    if (seen > MAX_LOGGED_WARNINGS) return;
  }
  const entry = db().insert(jobLog).values({ jobId: job.id, at: Date.now(), kind, message, path }).returning().get();
  publish({ type: 'job-log', jobKind: job.kind, entry });
}

/** A step of the job begins. */
export function logStep(job: LoggedJob, message: string): void {
  logJob(job, 'step', message);
}

/** How many warnings the job has had so far (logged or not). */
export function warningsOf(jobId: number): number {
  return warnings.get(jobId) ?? 0;
}

/** The job has ended: says how many warnings went unlisted, and forgets its count. */
export function closeJobLog(job: LoggedJob): void {
  const seen = warnings.get(job.id) ?? 0;
  warnings.delete(job.id);
  if (seen > MAX_LOGGED_WARNINGS)
    logJob(
      job,
      'info',
      `${seen.toLocaleString('en')} warnings in all; the first ${MAX_LOGGED_WARNINGS} are listed here (a backup's snapshot lists every skipped entry)`,
    );
}

export function jobLogOf(jobId: number): JobLogEntry[] {
  return db().select().from(jobLog).where(eq(jobLog.jobId, jobId)).orderBy(asc(jobLog.id)).all();
}
