import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Which node wrote which repository lock: a node may refresh and remove its own locks only, across restarts
 *  of the dashboard. */
export const nodeLocks = sqliteTable('node_locks', {
  name: text('name').primaryKey(),
  nodeId: text('node_id').notNull(),
  createdAt: integer('created_at').notNull(),
});
