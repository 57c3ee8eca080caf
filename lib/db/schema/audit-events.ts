import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Every sign-in and every action that changes state, shown under Activity. */
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
  },
  (t) => [index('audit_events_at_idx').on(t.at)],
);

export type AuditEvent = typeof auditEvents.$inferSelect;
