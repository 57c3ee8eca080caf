import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Failed sign-ins, to slow down guessing (lib/auth/throttle.ts): `key` is a client address (`address:<ip>`), a
 *  client address and a username (`user:<ip> <username>`), or setup attempts from an address (`setup:<ip>`). */
export const loginThrottle = sqliteTable('login_throttle', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull(),
  lastFailureAt: integer('last_failure_at').notNull(),
});
