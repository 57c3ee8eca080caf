import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const CHANNEL_KINDS = ['webhook', 'email'] as const;

/** Where notifications go: a webhook URL, or an email address (when SMTP is configured). */
export const notificationChannels = sqliteTable('notification_channels', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  kind: text('kind', { enum: CHANNEL_KINDS }).notNull(),
  target: text('target').notNull(),
  createdAt: integer('created_at').notNull(),
  /** A webhook may reach a private, loopback or link-local address only when an admin said so (no blind SSRF). */
  allowPrivate: integer('allow_private', { mode: 'boolean' }).notNull().default(false),
});

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

/** Every notification sent or being retried, with its attempts. */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    channelId: integer('channel_id')
      .notNull()
      .references(() => notificationChannels.id, { onDelete: 'cascade' }),
    event: text('event').notNull(),
    payload: text('payload').notNull(),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [index('deliveries_created_idx').on(t.createdAt)],
);

export type NotificationChannel = typeof notificationChannels.$inferSelect;
export type Delivery = typeof deliveries.$inferSelect;
