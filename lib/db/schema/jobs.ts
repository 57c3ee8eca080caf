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
