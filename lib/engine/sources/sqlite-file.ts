// SQLite databases as backup sources: found by their header, copied consistently through SQLite's online
// backup API while other connections keep writing, and never by copying the live file.
import { closeSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

import Database from 'better-sqlite3';

import { fsPath, hasRawBytes } from '../byte-names';
import { EngineError, type EngineErrorCode } from '../errors';

const HEADER = Buffer.from('SQLite format 3\0', 'latin1');
/** Files beside a database that belong to it and must not be copied raw. */
export const SQLITE_SIDECARS = ['-wal', '-shm', '-journal'] as const;

export function hasSqliteHeader(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER.length && HEADER.equals(Buffer.from(bytes.buffer, bytes.byteOffset, HEADER.length));
}

export function isSqliteFile(file: string): boolean {
  let fd: number | null = null;
  try {
    fd = openSync(fsPath(file), 'r');
    const head = Buffer.alloc(HEADER.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && hasSqliteHeader(head);
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Pages a step copies from a database with a rollback journal: a step's read lock blocks writers for a few
 *  milliseconds (4 MiB with 4 KiB pages). */
const PAGES_PER_STEP = 1024;
/** Writes that restart a stepped copy before it is done in one step instead. */
const RESTART_BUDGET = 3;

/** Copies a live database to `dest` as one consistent snapshot of its committed state. `source` may be a symbolic
 *  link to it (SQLite resolves it, and finds the -wal and -journal beside the database itself). In WAL mode, in one step:
 *  writers go on meanwhile (they append to the WAL), and no write can restart it, so it finishes under any load.
 *  With a rollback journal, the copy's read lock blocks writers: it goes in short steps, between which writers
 *  run; a write restarts it, and after RESTART_BUDGET restarts it is done in one step, which blocks writers for its
 *  whole length, and `onWarning` says so. */
export async function copySqliteConsistently(
  source: string,
  dest: string,
  onWarning?: (message: string) => void,
  /** The database's name in messages, when `source` is a symbolic link to it. */
  shownAs = source,
): Promise<void> {
  let db: Database.Database;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new EngineError('source-unreadable', `cannot open SQLite database ${shownAs}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    db.pragma('busy_timeout = 10000');
    const wal = String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    let remaining = Number.POSITIVE_INFINITY;
    let restarts = 0;
    await db.backup(dest, {
      progress: ({ remainingPages }) => {
        if (wal) return 0x7fffffff;
        // A step that left no fewer pages to go than the last started over: a write came between them.
        if (remainingPages >= remaining) restarts++;
        remaining = remainingPages;
        if (restarts < RESTART_BUDGET) return PAGES_PER_STEP;
        if (restarts === RESTART_BUDGET) {
          restarts++;
          onWarning?.(
            `writes restarted the copy ${RESTART_BUDGET} times: the rest was copied in one step, which held the database's writers until it ended (a database in WAL mode is copied without holding them)`,
          );
        }
        return 0x7fffffff;
      },
    });
  } catch (err) {
    throw new EngineError('source-unreadable', `cannot copy SQLite database ${shownAs}: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    db.close();
  }
}

/** SQLite takes a file name as text. A path that is not UTF-8 is opened here and handed to it as
 *  /proc/self/fd/N, a link SQLite resolves to the file itself (so it finds the -wal and -journal beside it). */
export async function atSqlitePath<T>(file: string, use: (name: string) => Promise<T>): Promise<T> {
  if (!hasRawBytes(file)) return use(file);
  const fd = openSync(fsPath(file), 'r');
  try {
    return await use(`/proc/self/fd/${fd}`);
  } finally {
    closeSync(fd);
  }
}

/** copySqliteConsistently on a worker thread of its own (the compiled sqlite-copy-worker script), so that the
 *  caller's thread goes on while a large database is copied. */
export function copySqliteOnThread(
  script: string,
  source: string,
  dest: string,
  onWarning?: (message: string) => void,
  shownAs = source,
  /** The thread runs at the lowest CPU priority (runBackup's `background`). */
  background = false,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { workerData: { source, dest, shownAs, background } });
    let settled = false;
    worker.on('message', (msg: { warning?: string; done?: true; error?: { code: string | null; message: string } }) => {
      if (msg.warning) onWarning?.(msg.warning);
      else if (msg.done) {
        settled = true;
        resolve();
      } else if (msg.error) {
        settled = true;
        reject(
          msg.error.code
            ? new EngineError(msg.error.code as EngineErrorCode, msg.error.message)
            : new Error(msg.error.message),
        );
      }
    });
    worker.on('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`the SQLite copy of ${shownAs} stopped (exit code ${code})`));
    });
  });
}

export function atSqlitePathSync<T>(file: string, use: (name: string) => T): T {
  if (!hasRawBytes(file)) return use(file);
  const fd = openSync(fsPath(file), 'r');
  try {
    return use(`/proc/self/fd/${fd}`);
  } finally {
    closeSync(fd);
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
