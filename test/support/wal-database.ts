// The database the replication tests write to (test/support/sqlite-writer.cjs writes table t), in WAL mode, and
// its rows as SQLite reads them back.
import path from 'node:path';

import Database from 'better-sqlite3';

export function walDatabase(dir: string, walMode = true): string {
  const file = path.join(dir, 'app.db');
  const db = new Database(file);
  if (walMode) db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, txn INTEGER, body BLOB)');
  db.close();
  return file;
}

export function walRows(file: string): { id: number; txn: number; body: Buffer }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT id, txn, body FROM t ORDER BY id').all() as { id: number; txn: number; body: Buffer }[];
  } finally {
    db.close();
  }
}
