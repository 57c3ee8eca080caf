import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const ROLES = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  username: text('username').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ROLES }).notNull(),
  createdAt: integer('created_at').notNull(),
  /** A disabled user cannot sign in, and their sessions are ended. */
  disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
});

export type User = typeof users.$inferSelect;
