import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** A cache of the repository's snapshots (the repository is the source of truth), for fast pages. */
export const snapshots = sqliteTable(
  'snapshots',
  {
    id: text('id').primaryKey(),
    sourceKey: text('source_key').notNull(),
    time: integer('time').notNull(),
    endedAt: integer('ended_at').notNull(),
    files: integer('files').notNull(),
    bytes: integer('bytes').notNull(),
    newBytes: integer('new_bytes').notNull(),
    durationMs: integer('duration_ms').notNull(),
    skipped: integer('skipped').notNull(),
    tags: text('tags').notNull().default(''),
    /** The repository that holds it: a node's own (its tenant path, tenants/nodes/<id>), or null for the control
     *  plane's. */
    repository: text('repository'),
  },
  (t) => [index('snapshots_source_idx').on(t.sourceKey, t.endedAt)],
);

export type SnapshotRow = typeof snapshots.$inferSelect;
