// What a backup will save: the given paths placed in one tree (with the directories above them), and each
// directory's entries listed as the backup comes to it (`listDirectory`: lstat of every entry, excluded entries
// left out, the files that belong to a SQLite database (-wal, -shm, -journal) passed over). Nothing holds the
// whole tree: a backup of millions of files holds the directories it is in, not every entry it has seen. Totals
// for the progress come from a second walk that only counts (`counting`), run alongside, as restic does.
// Given paths may overlap: each is walked unless one that contains it was, so every file is saved once. The
// directories above a given path are followed if they are symbolic links (the backup goes through them, and they
// are stored as the directories they lead to); the given path itself is not (a link given is saved as a link).
import { lstatSync, readdirSync, statSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

import { decodeBytes, displayPath, fsPath } from '../byte-names';
import { EngineError, throwIfAborted } from '../errors';
import type { ProgressMeter } from '../progress';
import type { NodeType } from '../repository/tree';
import type { ExcludeMatcher } from './exclude';
import { isSqliteFile, SQLITE_SIDECARS } from './sqlite-file';

export interface FsEntry {
  name: string;
  path: string;
  type: NodeType;
  stat: BigIntStats;
  /** Directories above a given path: the entries on the way to given paths, by name. */
  children?: Map<string, FsEntry>;
  /** Named with --sqlite: always copied through the backup API. */
  sqlite?: boolean;
  /** Walked whole (a given path, or below one), as opposed to a directory only on the way to a given path. */
  whole?: boolean;
}

/** What decides which entries a directory walked whole lists. */
export interface WalkRules {
  exclude: ExcludeMatcher;
  /** Databases named on their own, which may also lie inside a backed-up directory. */
  sqlite: Set<string>;
}

export interface ScanResult {
  root: FsEntry;
  rules: WalkRules;
  /** What placing the given paths skipped, as `path: why`: they go into the snapshot's warnings and its skipped
   *  count (what listing a directory skips is said by the backup as it lists it). */
  warnings: string[];
  /** Files and bytes counted so far; `done` once the count is whole. */
  totals: { files: number; bytes: number; done: boolean };
  /** Stops the count (the backup ended first). */
  stopCounting(): void;
}

/** The count on a thread of its own (count-worker.ts): the exclude patterns it compiles again, and its script. */
export interface CountThread {
  script: string;
  excludePatterns: readonly string[];
}

/** Places the given paths and starts counting what lies under them: on a thread of its own if `countThread` is
 *  given (the count then reads the disk while the backup's walk and the reading go on), else on this one. */
export async function scanSources(
  paths: string[],
  sqlitePaths: string[],
  exclude: ExcludeMatcher,
  meter: ProgressMeter,
  signal?: AbortSignal,
  countThread?: CountThread,
): Promise<ScanResult> {
  const rules: WalkRules = { exclude, sqlite: new Set(sqlitePaths.map((p) => path.resolve(p))) };
  const warnings: string[] = [];
  const root = placeSources(paths, rules, (where, why) => {
    const shown = displayPath(where);
    warnings.push(`${shown}: ${why}`);
    meter.warn(shown, why);
  });
  if (countThread) {
    const counter = startCountThread(countThread, paths, rules);
    return { root, rules, warnings, totals: counter.totals, stopCounting: counter.stop };
  }
  const totals = { files: 0, bytes: 0, done: false };
  const stop = new AbortController();
  const counting = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  count(root, rules, totals, counting).then(
    () => {
      totals.done = true;
    },
    () => undefined,
  );
  return { root, rules, warnings, totals, stopCounting: () => stop.abort() };
}

/** The given paths in one tree, with the directories above them; `skip` is told what cannot be placed. */
export function placeSources(paths: string[], rules: WalkRules, skip: (where: string, why: string) => void): FsEntry {
  const root = entryFor('/', '');
  // Sorted by their parts, a path comes after every path that contains it: one already placed covers it.
  const given = [...new Set([...paths, ...rules.sqlite].map((p) => path.resolve(p)))].sort(byParts);
  for (const absolute of given) {
    const entry = placeSource(root, absolute, skip);
    if (!entry) continue;
    entry.whole = true;
    if (rules.sqlite.has(absolute)) markSqlite(entry);
  }
  return root;
}

/** What the count thread is given. */
export interface CountWork {
  paths: string[];
  sqlite: string[];
  exclude: readonly string[];
  /** Files, bytes, and 1 once the count is whole. */
  totals: SharedArrayBuffer;
}

function startCountThread(
  thread: CountThread,
  paths: string[],
  rules: WalkRules,
): { totals: ScanResult['totals']; stop: () => void } {
  const shared = new Float64Array(new SharedArrayBuffer(3 * 8));
  const work: CountWork = {
    paths,
    sqlite: [...rules.sqlite],
    exclude: thread.excludePatterns,
    totals: shared.buffer as SharedArrayBuffer,
  };
  const worker = new Worker(thread.script, { workerData: work });
  // The count only feeds the progress: it never keeps the process alive, and a failure of it is no one's concern.
  worker.unref();
  worker.on('error', () => undefined);
  const totals = {
    get files() {
      return shared[0];
    },
    get bytes() {
      return shared[1];
    },
    get done() {
      return shared[2] === 1;
    },
  };
  return { totals, stop: () => void worker.terminate() };
}

/** The count itself, as the count thread runs it: totals written to shared memory as they grow. */
export async function countInto(work: CountWork, exclude: ExcludeMatcher): Promise<void> {
  const shared = new Float64Array(work.totals);
  const rules: WalkRules = { exclude, sqlite: new Set(work.sqlite) };
  const totals = {
    get files() {
      return shared[0];
    },
    set files(n: number) {
      shared[0] = n;
    },
    get bytes() {
      return shared[1];
    },
    set bytes(n: number) {
      shared[1] = n;
    },
    done: false,
  };
  await count(
    placeSources(work.paths, rules, () => undefined),
    rules,
    totals,
    new AbortController().signal,
  );
  shared[2] = 1;
}

/** The entries of a directory, sorted by name: listed now for one walked whole (each looked at with lstat; those
 *  that cannot be are skipped, with the reason), those placed for one on the way to given paths. Null if the
 *  directory cannot be listed (skipped, with the reason). */
export function listDirectory(
  entry: FsEntry,
  rules: WalkRules,
  skip: (where: string, why: string) => void,
): FsEntry[] | null {
  if (!entry.whole) return [...entry.children!.values()];
  let raw: Buffer[];
  try {
    raw = readdirSync(fsPath(entry.path), { encoding: 'buffer' });
  } catch (err) {
    skip(entry.path, `directory not readable, its contents are skipped: ${(err as Error).message}`);
    return null;
  }
  // Names are bytes: one that is not UTF-8 is kept as byte-names.ts decodes it.
  const names = raw.map(decodeBytes);
  const present = new Set(names);
  names.sort();
  const entries: FsEntry[] = [];
  for (const name of names) {
    const full = path.join(entry.path, name);
    if (rules.exclude(full) || isSqliteSidecar(entry.path, name, present)) continue;
    let child: FsEntry;
    try {
      child = entryFor(full, name, lstatSync(fsPath(full), { bigint: true }), false);
    } catch (err) {
      skip(full, `not readable, skipped: ${(err as Error).message}`);
      continue;
    }
    child.whole = true;
    if (rules.sqlite.has(full)) markSqlite(child);
    entries.push(child);
  }
  return entries;
}

/** Counts the files and bytes under `entry` into `totals`, depth first, giving the event loop a turn now and then. */
async function count(
  entry: FsEntry,
  rules: WalkRules,
  totals: ScanResult['totals'],
  signal: AbortSignal,
): Promise<void> {
  let sinceYield = 0;
  const visit = async (dir: FsEntry): Promise<void> => {
    for (const child of listDirectory(dir, rules, () => undefined) ?? []) {
      if (child.type === 'file') {
        totals.files++;
        totals.bytes += Number(child.stat.size);
      } else if (child.type === 'dir') await visit(child);
      if (++sinceYield >= 500) {
        sinceYield = 0;
        throwIfAborted(signal);
        await new Promise((r) => setImmediate(r));
      }
    }
  };
  if (entry.type === 'file') {
    totals.files++;
    totals.bytes += Number(entry.stat.size);
  }
  if (entry.type === 'dir') await visit(entry);
}

function byParts(a: string, b: string): number {
  const x = a.split(path.sep);
  const y = b.split(path.sep);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length - y.length;
}

/** Adds a backed-up path and the directories above it to the tree; null if a path walked already covers it, or
 *  if one walked already stands in its way (skipped, with the reason). */
function placeSource(root: FsEntry, absolute: string, skip: (where: string, why: string) => void): FsEntry | null {
  try {
    let parent = root;
    for (const part of absolute.split(path.sep).filter(Boolean).slice(0, -1)) {
      let next = parent.children!.get(part);
      if (!next) {
        const full = path.join(parent.path, part);
        next = entryFor(full, part, statSync(fsPath(full), { bigint: true }));
        if (next.type !== 'dir')
          throw new EngineError(
            'source-unreadable',
            `backup source ${absolute} cannot be read: ${full} is not a directory`,
          );
        parent.children!.set(part, next);
      }
      if (next.whole) {
        // Below a directory backed up whole: saved with it (or, if it cannot be listed, skipped with it).
        if (next.type !== 'dir')
          skip(
            absolute,
            `not backed up: it lies below ${next.path}, which is backed up as a ${next.type === 'symlink' ? 'symbolic link' : next.type} (name one or the other)`,
          );
        return null;
      }
      parent = next;
    }
    const name = path.basename(absolute);
    if (parent.children!.get(name)?.whole) return null;
    const entry = entryFor(absolute, name);
    parent.children!.set(name, entry);
    return entry;
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw new EngineError(
      'source-unreadable',
      `backup source ${absolute} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
}

function markSqlite(entry: FsEntry): void {
  if (entry.type !== 'file' || !isSqliteFile(entry.path))
    throw new EngineError('invalid-argument', `${entry.path} is not a SQLite database`);
  entry.sqlite = true;
}

/** `placed`: a directory that given paths may be placed under (children by name). */
function entryFor(
  full: string,
  name: string,
  stat = lstatSync(fsPath(full), { bigint: true }),
  placed = true,
): FsEntry {
  const type = typeOf(stat);
  return { name, path: full, type, stat, children: placed && type === 'dir' ? new Map() : undefined };
}

function typeOf(stat: BigIntStats): NodeType {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'chardev';
  return 'blockdev';
}

function isSqliteSidecar(dir: string, name: string, present: Set<string>): boolean {
  for (const suffix of SQLITE_SIDECARS) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      return present.has(base) && isSqliteFile(path.join(dir, base));
    }
  }
  return false;
}
