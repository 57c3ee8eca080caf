import { sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** Small control-plane facts by key: where the repository is, whether its recovery kit was saved. */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});
