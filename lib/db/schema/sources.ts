import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const SOURCE_KINDS = ['directory', 'sqlite'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** Something protected: a directory or a SQLite database on a node. Until nodes exist, the node is always
 *  `local`, the control plane's own machine. */
export const sources = sqliteTable('sources', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  node: text('node').notNull().default('local'),
  name: text('name').notNull().unique(),
  kind: text('kind', { enum: SOURCE_KINDS }).notNull(),
  path: text('path').notNull(),
  /** Exclude patterns, one per line. */
  excludes: text('excludes').notNull().default(''),
  /** Cron expression of the schedule; empty: on demand only. */
  schedule: text('schedule').notNull().default(''),
  /** IANA time zone the schedule is read in; empty: the server's. */
  timezone: text('timezone').notNull().default(''),
  rpoTargetMinutes: integer('rpo_target_minutes').notNull().default(60),
  /** Retention after each backup: keep the newest N, and the newest of each of the last N days (0: rule off). */
  keepLast: integer('keep_last').notNull().default(0),
  keepDaily: integer('keep_daily').notNull().default(0),
  /** Shell commands around a backup (to quiesce an application), each with a time limit. */
  preCommand: text('pre_command').notNull().default(''),
  postCommand: text('post_command').notNull().default(''),
  commandTimeoutSeconds: integer('command_timeout_seconds').notNull().default(60),
  builtIn: integer('built_in', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
});

export type Source = typeof sources.$inferSelect;
