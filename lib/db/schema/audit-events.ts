import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Every sign-in and every action that changes state, shown under Activity. Each record carries its sequence number
 *  and a hash over itself and the previous record's hash (lib/engine/audit-chain.ts): an altered, removed or
 *  inserted record breaks the chain from there on. */
export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    username: text('username'),
    action: text('action').notNull(),
    target: text('target'),
    ok: integer('ok', { mode: 'boolean' }).notNull(),
    detail: text('detail'),
    /** 1, 2, 3…: a gap is a record removed. Null only before the chain was started (filled in at the next start). */
    seq: integer('seq').unique(),
    hash: text('hash'),
  },
  (t) => [index('audit_events_at_idx').on(t.at)],
);

export type AuditEvent = typeof auditEvents.$inferSelect;
