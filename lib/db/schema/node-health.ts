import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

import { nodes } from './nodes';

export const SAMPLE_RESOLUTIONS = ['raw', 'minute'] as const;

/** Probe results: one row per probe for the last hour, then one row per node and minute. */
export const nodeSamples = sqliteTable(
  'node_samples',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    nodeId: text('node_id')
      .notNull()
      .references(() => nodes.id, { onDelete: 'cascade' }),
    at: integer('at').notNull(),
    resolution: text('resolution', { enum: SAMPLE_RESOLUTIONS }).notNull().default('raw'),
    /** Probes in this row and how many of them found the agent up. */
    probes: integer('probes').notNull().default(1),
    okProbes: integer('ok_probes').notNull(),
    latencyMs: real('latency_ms'),
  },
  (t) => [index('node_samples_node_idx').on(t.nodeId, t.at)],
);

export const NODE_EVENT_KINDS = [
  'up',
  'down',
  'promoted',
  'fenced',
  'standby',
  'registered',
  'rotated',
  'shipping-stalled',
  'shipping-resumed',
  'quota-exceeded',
  'backups-failing',
  'backups-resumed',
  'repository-moved',
] as const;

/** A node's history: up and down, and the roles it took. */
export const nodeEvents = sqliteTable(
  'node_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    nodeId: text('node_id')
      .notNull()
      .references(() => nodes.id, { onDelete: 'cascade' }),
    at: integer('at').notNull(),
    kind: text('kind', { enum: NODE_EVENT_KINDS }).notNull(),
    detail: text('detail'),
  },
  (t) => [index('node_events_node_idx').on(t.nodeId, t.at)],
);

export type NodeSample = typeof nodeSamples.$inferSelect;
export type NodeEvent = typeof nodeEvents.$inferSelect;
