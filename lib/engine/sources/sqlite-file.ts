// SQLite databases as backup sources: found by their header, copied consistently through SQLite's online
// backup API while other connections keep writing, and never by copying the live file.
import { closeSync, openSync, readSync } from 'node:fs';

import Database from 'better-sqlite3';

import { EngineError } from '../errors';

const HEADER = Buffer.from('SQLite format 3\0', 'latin1');
/** Files beside a database that belong to it and must not be copied raw. */
export const SQLITE_SIDECARS = ['-wal', '-shm', '-journal'] as const;

export function hasSqliteHeader(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER.length && HEADER.equals(Buffer.from(bytes.buffer, bytes.byteOffset, HEADER.length));
}

export function isSqliteFile(file: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(HEADER.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && hasSqliteHeader(head);
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Copies a live database to `dest` as one consistent snapshot of its committed state. */
export async function copySqliteConsistently(source: string, dest: string): Promise<void> {
  let db: Database.Database;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new EngineError('source-unreadable', `cannot open SQLite database ${source}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    db.pragma('busy_timeout = 10000');
    // One step copies every page under a single read transaction: in WAL mode writers go on meanwhile, and
    // there is no second step for a concurrent write to restart, so the copy finishes under any load.
    await db.backup(dest, { progress: () => 0x7fffffff });
  } catch (err) {
    throw new EngineError('source-unreadable', `cannot copy SQLite database ${source}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    db.close();
  }
}

/** Runs SQLite's own integrity check on a database file. */
export function checkSqliteIntegrity(file: string): string | null {
  const db = new Database(file, { fileMustExist: true });
  try {
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    return problems.length > 0 ? problems.slice(0, 5).join('; ') : null;
  } finally {
    db.close();
  }
}
