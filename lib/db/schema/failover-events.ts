import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

import { failoverGroups } from './failover-groups';

export const FAILOVER_KINDS = ['failover', 'switchover', 'start'] as const;

/** Every failover, switchover and start of a group, with its timeline and what it cost, as measured. */
export const failoverEvents = sqliteTable(
  'failover_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    groupId: text('group_id')
      .notNull()
      .references(() => failoverGroups.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: FAILOVER_KINDS }).notNull(),
    reason: text('reason').notNull(),
    fromNodeId: text('from_node_id'),
    toNodeId: text('to_node_id'),
    ok: integer('ok', { mode: 'boolean' }).notNull(),
    error: text('error'),
    outageStartedAt: integer('outage_started_at').notNull(),
    rtoMs: integer('rto_ms'),
    rpoMs: integer('rpo_ms'),
    dataTime: integer('data_time'),
    /** JSON array of { part, ageMs }: how old the copy of each part of the data (each database, each other path)
     *  was when the outage began (null: no copy of it). Recorded where the new primary said (on etcd). */
    dataParts: text('data_parts'),
    /** Measured by the demo's write load: acknowledged writes lost, and the gap a client saw. */
    lostWrites: integer('lost_writes'),
    clientGapMs: integer('client_gap_ms'),
    /** JSON array of { step, at }. */
    timeline: text('timeline').notNull(),
    /** On etcd: the token of the leadership this event records (from the group's history there), so that each is
     *  recorded once, also when the dashboard was down at the time. */
    etcdToken: text('etcd_token'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('failover_events_group_idx').on(t.groupId, t.createdAt),
    uniqueIndex('failover_events_etcd_token_idx').on(t.groupId, t.etcdToken),
  ],
);

export const drills = sqliteTable('drills', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  groupId: text('group_id')
    .notNull()
    .references(() => failoverGroups.id, { onDelete: 'cascade' }),
  nodeId: text('node_id').notNull(),
  ok: integer('ok', { mode: 'boolean' }).notNull(),
  snapshotId: text('snapshot_id'),
  dataTime: integer('data_time'),
  timeToReadyMs: integer('time_to_ready_ms'),
  error: text('error'),
  startedAt: integer('started_at').notNull(),
  /** On etcd, the drill intention's id: its result is recorded once, however often it is read. */
  intentId: text('intent_id').unique(),
});

export type FailoverEvent = typeof failoverEvents.$inferSelect;
export type Drill = typeof drills.$inferSelect;
