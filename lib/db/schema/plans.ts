import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

import { copyRepositories } from './copy-repositories';

/** How one or more sources are protected: when, what to leave out, how long to keep, the RPO target, and
 *  commands around each backup. */
export const plans = sqliteTable('plans', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  /** Cron expression of the schedule; empty: on demand only. */
  schedule: text('schedule').notNull().default(''),
  /** IANA time zone the schedule is read in; empty: the server's. */
  timezone: text('timezone').notNull().default(''),
  rpoTargetMinutes: integer('rpo_target_minutes').notNull().default(60),
  /** Exclude patterns, comma- or line-separated. */
  excludes: text('excludes').notNull().default(''),
  /** Retention after each backup: keep the newest N, and the newest of each of the last N days (0: rule off). */
  keepLast: integer('keep_last').notNull().default(0),
  keepDaily: integer('keep_daily').notNull().default(0),
  /** Shell commands around a backup (to quiesce an application), each with a time limit. */
  preCommand: text('pre_command').notNull().default(''),
  postCommand: text('post_command').notNull().default(''),
  commandTimeoutSeconds: integer('command_timeout_seconds').notNull().default(60),
  /** The second repository this plan's snapshots are copied into; null: no copies. */
  copyRepositoryId: integer('copy_repository_id').references(() => copyRepositories.id, { onDelete: 'set null' }),
  /** Cron expression of the copies (read in `timezone`); empty: after each successful backup. */
  copySchedule: text('copy_schedule').notNull().default(''),
  builtIn: integer('built_in', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
});

export type Plan = typeof plans.$inferSelect;
