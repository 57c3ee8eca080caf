// The control plane's database: one better-sqlite3 connection per process (WAL, busy_timeout), migrated on open.
import 'server-only';

import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';

import { dataDir } from '../config';
import * as schema from './schema';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

// Hot reload re-evaluates modules: keep the one connection on globalThis.
const holder = globalThis as unknown as { lifelineDb?: Db };

export function db(): Db {
  if (!holder.lifelineDb) holder.lifelineDb = open(path.join(dataDir(), 'lifeline.db'));
  return holder.lifelineDb;
}

function open(file: string): Db {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // It holds password and session hashes: readable by the server's user alone. SQLite gives its -wal and -shm
  // the database file's mode, so setting it before the first open covers them too.
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  const database = drizzle(sqlite, { schema });
  migrate(database, { migrationsFolder: path.join(process.cwd(), 'drizzle') });
  return database;
}
