import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** A second repository that plans copy their snapshots into (`lifeline copy`): another disk, or an S3 bucket off
 *  this machine. Its passphrase and S3 keys are files of mode 0600 in the data directory's secrets. */
export const copyRepositories = sqliteTable('copy_repositories', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  location: text('location').notNull().unique(),
  passwordFile: text('password_file').notNull(),
  /** The AWS shared-credentials file of its bucket's keys; null for a directory. */
  s3Credentials: text('s3_credentials'),
  createdAt: integer('created_at').notNull(),
});

export type CopyRepository = typeof copyRepositories.$inferSelect;

/** The newest snapshot of each source that a copy repository holds, as its last copy job found: each source's RPO
 *  per repository. */
export const copyStatus = sqliteTable(
  'copy_status',
  {
    repositoryId: integer('repository_id')
      .notNull()
      .references(() => copyRepositories.id, { onDelete: 'cascade' }),
    sourceKey: text('source_key').notNull(),
    /** When the newest snapshot there was taken (ms). */
    newestSnapshotAt: integer('newest_snapshot_at').notNull(),
    /** When the last copy of this source into it succeeded (ms). */
    copiedAt: integer('copied_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.repositoryId, t.sourceKey] }), index('copy_status_source_idx').on(t.sourceKey)],
);

export type CopyStatus = typeof copyStatus.$inferSelect;
