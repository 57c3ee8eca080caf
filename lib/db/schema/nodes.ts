import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** A machine running the Lifeline agent. Its secret signs every request between the control plane and the
 *  agent; it is issued at registration, shown once in the agent's config, and can be rotated. */
export const nodes = sqliteTable('nodes', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  agentUrl: text('agent_url').notNull(),
  secret: text('secret').notNull(),
  serviceHost: text('service_host').notNull(),
  servicePort: integer('service_port').notNull(),
  /** The id of this node's key to its own repository (tenants.ts); a rotation replaces it and removes every other. */
  repositoryKeyId: text('repository_key_id'),
  /** Started and stopped by the demo cluster. */
  demo: integer('demo', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
  rotatedAt: integer('rotated_at'),
  /** What this node may add to the repository and how fast it may ask (null: the default, node-quota.ts). */
  quotaBytes: integer('quota_bytes'),
  quotaObjects: integer('quota_objects'),
  quotaRequestsPerMinute: integer('quota_requests_per_minute'),
});

export type NodeRow = typeof nodes.$inferSelect;
