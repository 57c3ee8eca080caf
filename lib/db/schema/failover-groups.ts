import { integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

import { nodes } from './nodes';

/** A service with one primary and standbys behind a stable endpoint. Every promotion uses a new epoch, stored
 *  before the promotion is sent, so an old primary can always be told apart from the new one. */
export const failoverGroups = sqliteTable('failover_groups', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  primaryNodeId: text('primary_node_id').references(() => nodes.id, { onDelete: 'set null' }),
  epoch: integer('epoch').notNull().default(0),
  /** The highest epoch handed out, stored before each promotion is sent. */
  reservedEpoch: integer('reserved_epoch').notNull().default(0),
  /** Shared by the members for failsafe questions; sent to each sealed with its own secret. */
  groupKey: text('group_key').notNull(),
  endpointHost: text('endpoint_host').notNull(),
  endpointPort: integer('endpoint_port').notNull(),
  shippingIntervalMs: integer('shipping_interval_ms').notNull().default(5000),
  probeIntervalMs: integer('probe_interval_ms').notNull().default(1000),
  downAfter: integer('down_after').notNull().default(3),
  upAfter: integer('up_after').notNull().default(2),
  leaseMs: integer('lease_ms').notNull().default(6000),
  /** On etcd: how often the primary renews its leader key (null: a third of the lease). */
  renewMs: integer('renew_ms'),
  /** On etcd: how far behind the primary's data a standby may be and still take the key (null: two ships). */
  maxLagMs: integer('max_lag_ms'),
  maintenance: integer('maintenance', { mode: 'boolean' }).notNull().default(false),
  /** Cron expression for DR drills, or null for drills by hand only. */
  drillSchedule: text('drill_schedule'),
  restoreTestedAt: integer('restore_tested_at'),
  demo: integer('demo', { mode: 'boolean' }).notNull().default(false),
  /** Who decides failovers: the dashboard's coordinator, or the members themselves through the group's leader
   *  key on etcd (docs/failover.md). A group moves to etcd once, with no failover. */
  coordination: text('coordination', { enum: ['dashboard', 'etcd'] })
    .notNull()
    .default('dashboard'),
  /** On etcd: how the service's SQLite databases reach the standbys, "log" (frame by frame from node to node) or
   *  "copies" (a whole copy every shipping interval); docs/failover.md. New groups replicate their log. */
  replication: text('replication', { enum: ['log', 'copies'] })
    .notNull()
    .default('copies'),
  /** With log replication: how often the primary begins a new generation and ships its base. */
  baseIntervalHours: real('base_interval_hours').notNull().default(6),
  /** With log replication: "on", the endpoints answer a write only once a standby holds it, degrading to
   *  asynchronous after `synchronousTimeoutMs` without one; "strict", writes wait; "off" (docs/failover.md). */
  synchronous: text('synchronous', { enum: ['off', 'on', 'strict'] })
    .notNull()
    .default('off'),
  synchronousTimeoutMs: integer('synchronous_timeout_ms').notNull().default(2000),
  createdAt: integer('created_at').notNull(),
});

export const groupMembers = sqliteTable(
  'group_members',
  {
    groupId: text('group_id')
      .notNull()
      .references(() => failoverGroups.id, { onDelete: 'cascade' }),
    nodeId: text('node_id')
      .notNull()
      .references(() => nodes.id, { onDelete: 'cascade' }),
    priority: integer('priority').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.nodeId] })],
);

export type FailoverGroup = typeof failoverGroups.$inferSelect;
export type GroupMember = typeof groupMembers.$inferSelect;
