import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Every object a node added to the repository that is still there (or being written): what its quota counts.
 *  Objects a prune removes or rewrites drop out (forgetGoneObjects), so a node's usage falls with its retention. */
export const nodeObjects = sqliteTable(
  'node_objects',
  {
    name: text('name').primaryKey(),
    nodeId: text('node_id').notNull(),
    size: integer('size').notNull(),
    addedAt: integer('added_at').notNull(),
  },
  (t) => [index('node_objects_node').on(t.nodeId)],
);
