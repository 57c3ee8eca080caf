import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

import { jobs } from './jobs';
import { sources } from './sources';

/** What each backup added, as the repository holds it (`lifeline stats SNAPSHOT`), and how it was judged against
 *  its source's earlier backups (lib/anomaly.ts). */
export const backupFigures = sqliteTable(
  'backup_figures',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sourceId: integer('source_id')
      .notNull()
      .references(() => sources.id, { onDelete: 'cascade' }),
    jobId: integer('job_id').references(() => jobs.id, { onDelete: 'set null' }),
    snapshotId: text('snapshot_id').notNull().unique(),
    /** The snapshot it was compared with; retention keeps it while this backup is flagged. */
    previousId: text('previous_id'),
    at: integer('at').notNull(),
    bytes: integer('bytes').notNull(),
    newRawBytes: integer('new_raw_bytes').notNull(),
    newStoredBytes: integer('new_stored_bytes').notNull(),
    newBlobs: integer('new_blobs').notNull(),
    newRatio: real('new_ratio').notNull(),
    compressionRatio: real('compression_ratio'),
    newRatioScore: real('new_ratio_score'),
    compressionScore: real('compression_score'),
    flagged: integer('flagged', { mode: 'boolean' }).notNull(),
    why: text('why'),
    /** An admin looked and found the backup sound: it no longer shows, and counts as usual from then on. */
    dismissedBy: text('dismissed_by'),
    dismissedAt: integer('dismissed_at'),
  },
  (t) => [index('backup_figures_source_idx').on(t.sourceId, t.at)],
);

export type BackupFiguresRow = typeof backupFigures.$inferSelect;

/** The repository's sizes over time (`lifeline stats`): its growth chart. */
export const repositoryStats = sqliteTable(
  'repository_stats',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Which repository: `dashboard` (the control plane's), or `node:<name>` (a node's own, lib/control/tenants.ts). */
    repository: text('repository').notNull(),
    at: integer('at').notNull(),
    snapshots: integer('snapshots').notNull(),
    packs: integer('packs').notNull(),
    packBytes: integer('pack_bytes').notNull(),
    logicalBytes: integer('logical_bytes').notNull(),
    rawBytes: integer('raw_bytes').notNull(),
    storedBytes: integer('stored_bytes').notNull(),
    /** JSON: each source's figures (lib/engine/stats/repository-stats.ts, SourceStats). */
    sources: text('sources').notNull(),
  },
  (t) => [index('repository_stats_repository_idx').on(t.repository, t.at)],
);

export type RepositoryStatsRow = typeof repositoryStats.$inferSelect;
