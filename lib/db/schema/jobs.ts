import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

import { sources } from './sources';

export const JOB_KINDS = ['backup', 'restore', 'verify', 'prune', 'copy'] as const;
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const jobs = sqliteTable(
  'jobs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind', { enum: JOB_KINDS }).notNull(),
    sourceId: integer('source_id').references(() => sources.id, { onDelete: 'set null' }),
    status: text('status', { enum: JOB_STATUSES }).notNull(),
    requestedBy: text('requested_by'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    endedAt: integer('ended_at'),
    filesDone: integer('files_done').notNull().default(0),
    filesTotal: integer('files_total').notNull().default(0),
    bytesDone: integer('bytes_done').notNull().default(0),
    bytesTotal: integer('bytes_total').notNull().default(0),
    newBytes: integer('new_bytes'),
    snapshotId: text('snapshot_id'),
    error: text('error'),
    /** Restores: JSON of { snapshot, target, include, inPlace, safetySnapshot, verified }. */
    params: text('params'),
  },
  (t) => [index('jobs_created_idx').on(t.createdAt), index('jobs_source_idx').on(t.sourceId)],
);

export type Job = typeof jobs.$inferSelect;

export const JOB_LOG_KINDS = ['step', 'phase', 'warning', 'info', 'error'] as const;
export type JobLogKind = (typeof JOB_LOG_KINDS)[number];

/** What a job did, line by line: the steps it took (each a `step`), the engine's phases within one, every warning
 *  (a skipped file, with its path) up to a bound, and how it ended. Its page shows it, live while it runs. */
export const jobLog = sqliteTable(
  'job_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    jobId: integer('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    at: integer('at').notNull(),
    kind: text('kind', { enum: JOB_LOG_KINDS }).notNull(),
    message: text('message').notNull(),
    /** A warning's path in the snapshot or on disk. */
    path: text('path'),
  },
  (t) => [index('job_log_job_idx').on(t.jobId, t.id)],
);

export type JobLogEntry = typeof jobLog.$inferSelect;
