import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

import { plans } from './plans';

export const SOURCE_KINDS = ['directory', 'sqlite'] as const;
/** The node of sources on the dashboard's own machine (backed up by the CLI there, not by an agent). */
export const LOCAL_NODE = 'local';
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** Something protected: a directory or a SQLite database on a node, under a plan. Until nodes exist, the node
 *  is always `local`, the control plane's own machine. */
export const sources = sqliteTable(
  'sources',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    planId: integer('plan_id')
      .notNull()
      .references(() => plans.id),
    node: text('node').notNull().default(LOCAL_NODE),
    name: text('name').notNull().unique(),
    kind: text('kind', { enum: SOURCE_KINDS }).notNull(),
    path: text('path').notNull(),
    builtIn: integer('built_in', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('sources_plan_idx').on(t.planId)],
);

export type Source = typeof sources.$inferSelect;
