import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Failed sign-ins per username, to slow down guessing. */
export const loginThrottle = sqliteTable('login_throttle', {
  username: text('username').primaryKey(),
  failures: integer('failures').notNull(),
  lastFailureAt: integer('last_failure_at').notNull(),
});
